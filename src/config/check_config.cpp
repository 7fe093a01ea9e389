// `tcpproxy --check-config` (check_config.hpp): like `nginx -t` / `relayd -n`,
// every diagnostic and then one line saying the file is fine.
#include "tcpproxy/config/check_config.hpp"

#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/config/values.hpp"

#include <string>

namespace tcpproxy {

namespace {

std::string count(std::size_t n, const std::string& noun)
{
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

} // namespace

int check_config(const std::string& file, std::ostream& out, std::ostream& err, bool colour)
{
    const LoadResult loaded = load_config_file(file);
    print_diagnostics(err, loaded.diagnostics, colour);
    if (!loaded.config) {
        err.flush();
        return 1;
    }
    // Not in the diagnostics: whether a program exists is the system's state, not the file's.
    // (Composed, then written at once: std::cerr writes every piece.)
    const auto problems = program_problems(*loaded.config);
    std::string warnings;
    for (const auto& problem : problems)
        warnings.append(file).append(": warning: ").append(problem).append(1, '\n');
    err << warnings;
    err.flush();
    std::size_t sections = 0;
    for (const auto& port : loaded.config->ports)
        sections += port.services.size();
    out << file << ": configuration OK: " << count(loaded.config->ports.size(), "port") << ", "
        << count(sections, "section") << " (" << count(loaded.diagnostics.warning_count() + problems.size(), "warning")
        << ")\n";
    return 0;
}

} // namespace tcpproxy
