#include "tcpproxy/cli/bind_spec.hpp"

#include "tcpproxy/config/values.hpp"
#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

namespace tcpproxy::cli {

Result<BindSpec> parse_bind(std::string_view text)
{
    const auto parts = grammar::host_port(text);
    if (!parts)
        return std::unexpected(parts.error());
    // One word without ':' is PORT alone; a bracketed address needs its port.
    std::string_view iface, port = parts->host;
    const bool has_iface = parts->port.has_value();
    if (has_iface) {
        iface = parts->bracketed ? text.substr(0, parts->host.size() + 2) : parts->host;
        port = *parts->port;
        if (iface.empty())
            return fail("no interface before \":\" in " + text::quoted(text) +
                        " (give PORT alone to listen on all interfaces)");
    } else if (parts->bracketed) {
        return fail("expected :PORT after the IPv6 address in " + text::quoted(text));
    }
    if (port.empty())
        return fail("no PORT in " + text::quoted(text));

    BindSpec spec;
    if (has_iface) {
        auto parsed = parse_interface(std::string(iface));
        if (!parsed)
            return std::unexpected(parsed.error());
        spec.interface = std::move(*parsed);
    } else {
        spec.interface.kind = InterfaceSpec::Kind::any;
        spec.interface.text = "*";
    }

    const auto number = parse_port(std::string(port));
    if (!number)
        return std::unexpected(number.error());
    spec.port = *number;
    return spec;
}

} // namespace tcpproxy::cli
