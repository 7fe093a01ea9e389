#pragma once
// IP addresses (v4 and v6) independent of sockets: parsing, formatting,
// prefix comparison. IPv4-mapped IPv6 addresses are normalised to IPv4 by
// unmapped() so that ACLs and matching treat them as the IPv4 client they are.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace tcpproxy {

struct IpAddress {
    enum class Family : std::uint8_t { v4, v6 };
    Family family = Family::v4;
    std::array<std::uint8_t, 16> bytes{}; // v4 uses the first 4

    bool is_v4() const { return family == Family::v4; }
    unsigned bits() const { return is_v4() ? 32u : 128u; }
    IpAddress unmapped() const; // ::ffff:a.b.c.d -> a.b.c.d
    std::string str() const;    // 127.0.0.1, ::1
    bool same_prefix(const IpAddress& other, unsigned prefix) const;
    IpAddress masked(unsigned prefix) const; // host bits beyond prefix cleared
    IpAddress next() const;                  // numerically +1 (wraps)
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

    // Strict parsers: a full dotted quad / an inet_pton IPv6 text (no brackets).
    static std::optional<IpAddress> parse_v4(std::string_view);
    static std::optional<IpAddress> parse_v6(std::string_view);
    static std::optional<IpAddress> parse(std::string_view); // either
};

// An address and a port: what a socket is bound or connected to.
struct Endpoint {
    IpAddress ip;
    std::uint16_t port = 0;
    std::string str() const; // 1.2.3.4:25, [::1]:25
    friend bool operator==(const Endpoint&, const Endpoint&) = default;

    static Endpoint from_sockaddr(const sockaddr* sa);
    // Fills ss for ip/port; returns the length to pass to bind/connect.
    unsigned to_sockaddr(sockaddr_storage& ss) const;
};

} // namespace tcpproxy
