#include "tcpproxy/net/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace tcpproxy {

namespace {
constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

IpAddress IpAddress::unmapped() const
{
    if (is_v4() || !std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes.begin()))
        return *this;
    IpAddress v4;
    std::copy(bytes.begin() + 12, bytes.end(), v4.bytes.begin());
    return v4;
}

std::string IpAddress::str() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

bool IpAddress::same_prefix(const IpAddress& other, unsigned prefix) const
{
    if (family != other.family)
        return false;
    return masked(prefix) == other.masked(prefix);
}

IpAddress IpAddress::masked(unsigned prefix) const
{
    IpAddress r = *this;
    const unsigned total = bits();
    if (prefix >= total)
        return r;
    const unsigned full = prefix / 8;
    const unsigned rest = prefix % 8;
    if (rest) {
        r.bytes[full] &= static_cast<std::uint8_t>(0xff << (8 - rest));
    }
    for (unsigned i = full + (rest ? 1 : 0); i < 16; ++i)
        r.bytes[i] = 0;
    return r;
}

IpAddress IpAddress::next() const
{
    IpAddress r = *this;
    for (int i = static_cast<int>(bits() / 8) - 1; i >= 0; --i)
        if (++r.bytes[static_cast<std::size_t>(i)] != 0)
            break;
    return r;
}

std::optional<IpAddress> IpAddress::parse_v4(std::string_view text)
{
    // inet_pton accepts exactly the full dotted quad (no shorthand, no octal).
    if (text.empty() || text.size() > 15)
        return std::nullopt;
    const std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1)
        return std::nullopt;
    return a;
}

std::optional<IpAddress> IpAddress::parse_v6(std::string_view text)
{
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
        return std::nullopt;
    const std::string s(text);
    IpAddress a;
    a.family = Family::v6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1)
        return std::nullopt;
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
    if (text.find(':') != std::string_view::npos)
        return parse_v6(text);
    return parse_v4(text);
}

std::string Endpoint::str() const
{
    return ip.is_v4() ? ip.str() + ':' + std::to_string(port) : '[' + ip.str() + "]:" + std::to_string(port);
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa)
{
    Endpoint e;
    if (sa->sa_family == AF_INET) {
        sockaddr_in sin;
        std::memcpy(&sin, sa, sizeof sin);
        std::memcpy(e.ip.bytes.data(), &sin.sin_addr, 4);
        e.port = ntohs(sin.sin_port);
    } else if (sa->sa_family == AF_INET6) {
        sockaddr_in6 sin6;
        std::memcpy(&sin6, sa, sizeof sin6);
        e.ip.family = IpAddress::Family::v6;
        std::memcpy(e.ip.bytes.data(), &sin6.sin6_addr, 16);
        e.port = ntohs(sin6.sin6_port);
    }
    return e;
}

unsigned Endpoint::to_sockaddr(sockaddr_storage& ss) const
{
    std::memset(&ss, 0, sizeof ss);
    if (ip.is_v4()) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        std::memcpy(&sin.sin_addr, ip.bytes.data(), 4);
        std::memcpy(&ss, &sin, sizeof sin);
        return sizeof sin;
    }
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, ip.bytes.data(), 16);
    std::memcpy(&ss, &sin6, sizeof sin6);
    return sizeof sin6;
}

} // namespace tcpproxy
