#include "tcpproxy/cli/bind_spec.hpp"

#include "tcpproxy/cli/option_values.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/config/values.hpp"

#include <algorithm>

namespace tcpproxy::cli {

namespace {

bool all_digits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

BindParse parse_bind(std::string_view text)
{
    std::string_view iface, port;
    bool has_iface = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return {std::nullopt, "no \"]\" closing the IPv6 address in " + quoted(text)};
        if (close + 1 >= text.size() || text[close + 1] != ':')
            return {std::nullopt, "expected :PORT after the IPv6 address in " + quoted(text)};
        if (!IpAddress::parse_v6(text.substr(1, close - 1)))
            return {std::nullopt, quoted(text.substr(0, close + 1)) + " is not an IPv6 address"};
        iface = text.substr(0, close + 1);
        port = text.substr(close + 2);
        has_iface = true;
    } else {
        const auto colon = text.find(':');
        if (colon != std::string_view::npos) {
            if (text.find(':', colon + 1) != std::string_view::npos)
                return {std::nullopt, "an IPv6 address must be in brackets, as in [::1]:8080; got " +
                                          quoted(text)};
            iface = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_iface = true;
            if (iface.empty())
                return {std::nullopt, "no interface before \":\" in " + quoted(text) +
                                          " (give PORT alone to listen on all interfaces)"};
        } else {
            port = text;
        }
    }
    if (port.empty())
        return {std::nullopt, "no PORT in " + quoted(text)};

    BindSpec spec;
    if (has_iface) {
        InterfaceParse parsed = parse_interface(std::string(iface));
        if (!parsed.spec)
            return {std::nullopt, parsed.error};
        spec.interface = *parsed.spec;
    } else {
        spec.interface.kind = InterfaceSpec::Kind::any;
        spec.interface.text = "*";
    }

    const std::optional<std::uint16_t> number = parse_port(std::string(port));
    if (!number) {
        if (all_digits(port))
            return {std::nullopt, "port " + std::string(port) + " is out of range (1-65535)"};
        return {std::nullopt, quoted(port) + " is neither a port number nor a known TCP service"};
    }
    spec.port = *number;
    return {spec, {}};
}

} // namespace tcpproxy::cli
