#include "tcpproxy/cli/bind_spec.hpp"

#include "tcpproxy/config/values.hpp"
#include "tcpproxy/core/text.hpp"

namespace tcpproxy::cli {

Result<BindSpec> parse_bind(std::string_view text)
{
    std::string_view iface, port;
    bool has_iface = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return fail("no \"]\" closing the IPv6 address in " + text::quoted(text));
        if (close + 1 >= text.size() || text[close + 1] != ':')
            return fail("expected :PORT after the IPv6 address in " + text::quoted(text));
        if (!IpAddress::parse_v6(text.substr(1, close - 1)))
            return fail(text::quoted(text.substr(0, close + 1)) + " is not an IPv6 address");
        iface = text.substr(0, close + 1);
        port = text.substr(close + 2);
        has_iface = true;
    } else {
        const auto colon = text.find(':');
        if (colon != std::string_view::npos) {
            if (text.find(':', colon + 1) != std::string_view::npos)
                return fail("an IPv6 address must be in brackets, as in [::1]:8080; got " + text::quoted(text));
            iface = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_iface = true;
            if (iface.empty())
                return fail("no interface before \":\" in " + text::quoted(text) +
                            " (give PORT alone to listen on all interfaces)");
        } else {
            port = text;
        }
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
