// Picks the mode (reference §1) and wires the components; no logic of its own.
#include "tcpproxy/config/check_config.hpp"
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/server/server.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/report/tools.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/metrics/totals.hpp"

#include <malloc.h>
#include <unistd.h>

#include <iostream>

using namespace tcpproxy;

namespace {

int usage_error(const std::string& message)
{
    std::cerr << message << '\n' << usage_line() << '\n';
    return 2;
}

// --status reads -o DIR, else the statdir of the config file; the totals
// line comes from the daemon's metrics listener (--metrics, else the file's).
int status(const CommandLine& cl)
{
    std::string dir = cl.statdir.value_or("");
    std::optional<Endpoint> metrics_at = cl.metrics;
    if (dir.empty()) {
        auto loaded = load_config_file(cl.config_file);
        if (!loaded.config) {
            print_diagnostics(std::cerr, loaded.diagnostics, isatty(STDERR_FILENO) == 1);
            return 1;
        }
        dir = loaded.config->statdir;
        if (!metrics_at)
            metrics_at = loaded.config->metrics;
    } else if (!metrics_at && cl.config_file_given) {
        if (auto loaded = load_config_file(cl.config_file); loaded.config)
            metrics_at = loaded.config->metrics;
    }
    if (dir.empty()) {
        std::cerr << "tcpproxy: --status: no status directory (give -o DIR or set statdir in " << cl.config_file
                  << ")\n";
        return 1;
    }
    const int rc = status_command(dir, std::cout, std::cerr);
    if (rc == 0 && metrics_at) {
        if (auto text = metrics::fetch(*metrics_at, 5000))
            std::cout << metrics::describe(metrics::totals_of(*text)) << '\n';
        else
            std::cerr << "tcpproxy: --status: totals: " << text.error().message << '\n';
    }
    return rc;
}

int run(const CommandLine& cl)
{
    close_inherited_descriptors();
    for (const auto& what : adopt_activated_sockets())
        std::cerr << "tcpproxy: socket activation: ignoring " << what << " (not a TCP socket we can use)\n";
    const bool inetd_socket = is_connected_tcp_socket(0);
    if (cl.server) {
        if (!cl.bind && !inetd_socket)
            return usage_error("tcpproxy: SERVER given, but stdin is not a connected TCP socket and no -b PORT");
        auto settings = config_from_command_line(cl);
        if (!settings)
            return usage_error(settings.error().message);
        if (cl.bind)
            return run_standalone(cl, *settings);
        return run_inetd(cl, *settings);
    }

    auto loaded = load_config_file(cl.config_file);
    print_diagnostics(std::cerr, loaded.diagnostics, isatty(STDERR_FILENO) == 1);
    if (!loaded.config)
        return 1;
    auto settings = apply_command_line(cl, loaded.config);
    if (!settings)
        return usage_error(settings.error().message);
    const bool standalone = cl.standalone || (*settings)->standalone.value_or(false) || !inetd_socket;
    if (standalone)
        return run_standalone(cl, *settings);
    return run_inetd(cl, *settings);
}

} // namespace

int main(int argc, char* argv[])
{
    // glibc gives each thread that allocates an arena of its own (up to 8 per
    // core); with thousands of session threads that is megabytes of mostly
    // empty heaps. Session threads allocate little and rarely: two arenas do.
    ::mallopt(M_ARENA_MAX, 2);
    // Before anything is written to stderr: under inetd it is the client's socket.
    log::guard_stderr();
    const auto parsed = parse_command_line(argc, argv);
    if (!parsed)
        return usage_error(parsed.error().message);
    const CommandLine cl = with_absolute_paths(*parsed);
    switch (cl.action) {
    case CommandLine::Action::help:
        std::cout << help_text();
        return 0;
    case CommandLine::Action::version:
        std::cout << "tcpproxy " << TCPPROXY_VERSION << '\n';
        return 0;
    case CommandLine::Action::check_config:
        return check_config(cl.config_file, std::cout, std::cerr, isatty(STDERR_FILENO) == 1);
    case CommandLine::Action::status:
        return status(cl);
    case CommandLine::Action::decode:
        return decode_command(*cl.decode_file, cl.decode_client_out, cl.decode_server_out, std::cout, std::cerr);
    case CommandLine::Action::run:
        break;
    }
    return run(cl);
}
