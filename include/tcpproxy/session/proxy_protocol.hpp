#pragma once
// The PROXY protocol (HAProxy's published specification, versions 1 and 2):
// the header a proxy puts in front of a connection to tell the next hop who
// the client is. Pure: bytes in, bytes out; the session does the socket I/O.
#include "tcpproxy/net/address.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace tcpproxy::proxy_protocol {

// The longest v1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses and ports).
inline constexpr std::size_t v1_max_length = 107;
// The v2 header: 12-byte signature, version/command, family, 16-bit length; then `length` bytes.
inline constexpr std::size_t v2_fixed_length = 16;
// What we accept after the fixed part (addresses and TLVs): the specification
// allows 64 KiB, but no sender of TCP addresses needs more than a few hundred
// bytes, and a bound keeps a hostile client from parking that much in a session.
inline constexpr std::size_t v2_max_payload = 2048;
inline constexpr std::size_t max_header_length = v2_fixed_length + v2_max_payload;

struct Header {
    int version = 0; // 1 or 2
    // Both set when the header names the connection (v1 TCP4/TCP6, v2 PROXY
    // over IPv4/IPv6); both unset when the connection's own endpoints apply
    // (v1 UNKNOWN, v2 LOCAL, v2 UNSPEC, UNIX or datagram families).
    std::optional<Endpoint> source;
    std::optional<Endpoint> destination;
    std::size_t length = 0; // bytes the header takes on the wire
};

struct ParseResult {
    enum class Kind { need_more, header, error };
    Kind kind = Kind::need_more;
    Header header;     // Kind::header
    std::string error; // Kind::error: what is wrong, for the log
};

// Looks at the first bytes received on a connection. need_more means every
// byte given belongs to a header that is not complete yet (so the caller may
// consume them all); header means the first header.length bytes are a valid
// header (the rest is payload); error means it is not a valid header, and is
// reported as early as the bytes allow.
ParseResult parse(std::span<const std::uint8_t> data);

// The header announcing a TCP connection from `source` to `destination`. An
// IPv4-mapped address counts as IPv4; when the families still differ, the
// IPv4 one is sent IPv4-mapped so both are IPv6.
std::string encode_v1(const Endpoint& source, const Endpoint& destination);
std::string encode_v2(const Endpoint& source, const Endpoint& destination);
// version 1 or 2.
std::string encode(int version, const Endpoint& source, const Endpoint& destination);

} // namespace tcpproxy::proxy_protocol
