// parse_config / load_config_file (config_load.hpp): text -> grammar ->
// validation, with every diagnostic of both in one sorted list.
#include "tcpproxy/config/config_load.hpp"

#include "reporter.hpp"
#include "validate.hpp"
#include "tcpproxy/grammar/parse.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/config/values.hpp"

#include "tcpproxy/core/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tcpproxy {

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
    if (result.config) // relative paths are the file's directory's (tcpproxy.conf(5) FILES)
        resolve_config_paths(*result.config, config_base_directory(file));
    return result;
}

Result<std::string> read_config_text(const std::string& file, bool may_wait) {
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | (may_wait ? 0 : O_NONBLOCK)));
    if (!fd)
        return fail(errno_text("open"));
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(errno_text("read"));
        if (n == 0)
            return text;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > max_config_bytes)
            return fail("larger than " + std::to_string(max_config_bytes >> 20) + " MiB");
    }
}

LoadResult load_config_text(const Result<std::string>& text, const std::string& file) {
    if (text)
        return parse_config(*text, file);
    LoadResult result;
    Diagnostic d;
    d.file = file;
    d.message = "cannot read the configuration: " + text.error().message;
    result.diagnostics.add(std::move(d));
    return result;
}

LoadResult load_config_file(const std::string& file) { return load_config_text(read_config_text(file), file); }

} // namespace tcpproxy
