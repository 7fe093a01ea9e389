// parse_config / load_config_file (config_load.hpp): text -> grammar ->
// validation, with every diagnostic of both in one sorted list.
#include "tcpproxy/config/config_load.hpp"

#include "reporter.hpp"
#include "validate.hpp"
#include "tcpproxy/grammar/parse.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/core/error.hpp"

#include <cerrno>
#include <fstream>
#include <iterator>

namespace tcpproxy {

namespace {

// A config larger than this is not a config (e.g. -f /dev/zero): refuse it
// instead of reading forever.
constexpr std::size_t max_config_size = 16u << 20;

} // namespace

LoadResult parse_config(std::string_view text, const std::string& file) {
    LoadResult result;
    const grammar::Source source(text);
    const grammar::ParsedFile parsed = grammar::parse(source, file);
    std::vector<int> broken_lines;
    for (const auto& d : parsed.errors) {
        result.diagnostics.add(d);
        broken_lines.push_back(d.line);
    }
    config::Reporter report(source, parsed, file, result.diagnostics);
    auto config = config::validate(parsed.directives, broken_lines, report, file);
    result.diagnostics.sort();
    if (!result.diagnostics.has_errors())
        result.config = std::move(config);
    return result;
}

LoadResult load_config_file(const std::string& file) {
    auto unreadable = [&](const std::string& why) {
        LoadResult result;
        Diagnostic d;
        d.file = file;
        d.message = "cannot read the configuration: " + why;
        result.diagnostics.add(std::move(d));
        return result;
    };
    errno = 0;
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return unreadable(errno_text("open", errno ? errno : ENOENT));
    std::string text;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_config_size)
            return unreadable("larger than " + std::to_string(max_config_size >> 20) + " MiB");
    }
    if (in.bad() || !in.eof())
        return unreadable(errno_text("read", errno ? errno : EIO));
    return parse_config(text, file);
}

} // namespace tcpproxy
