// libFuzzer target: any bytes as a config file. Besides the sanitizers, it
// checks what callers rely on: a Config exactly when there is no error, and
// every diagnostic pointing inside the text it names.
#include "tcpproxy/config/config_load.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string_view>

namespace {

void require(bool condition)
{
    if (!condition)
        std::abort();
}

std::string_view line_of(std::string_view text, int line)
{
    std::size_t start = 0;
    for (int i = 1; i < line; ++i) {
        start = text.find('\n', start);
        require(start != std::string_view::npos);
        ++start;
    }
    auto end = text.find('\n', start);
    auto l = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!l.empty() && l.back() == '\r')
        l.remove_suffix(1);
    return l;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto result = tcpproxy::parse_config(text, "fuzz.conf");

    require(static_cast<bool>(result.config) == !result.diagnostics.has_errors());
    for (const auto& d : result.diagnostics.items()) {
        require(d.file == "fuzz.conf");
        require(!d.message.empty());
        if (d.line == 0)
            continue;
        require(d.line > 0 && d.column >= 1);
        const auto line = line_of(text, d.line);
        require(static_cast<std::size_t>(d.column) <= line.size() + 1);
        require(d.source_line.size() == line.size());
    }
    if (result.config)
        for (const auto& port : result.config->ports)
            require(port.port != 0 && !port.services.empty());

    std::ostringstream out;
    tcpproxy::print_diagnostics(out, result.diagnostics);
    return 0;
}
