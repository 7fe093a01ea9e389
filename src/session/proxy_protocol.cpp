#include "tcpproxy/session/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace tcpproxy::proxy_protocol {

namespace {

constexpr std::array<std::uint8_t, 12> v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view v1_prefix = "PROXY ";

constexpr std::uint8_t cmd_local = 0x0;
constexpr std::uint8_t cmd_proxy = 0x1;
constexpr std::uint8_t af_inet = 0x1, af_inet6 = 0x2, af_unix = 0x3; // 0x0 is UNSPEC
constexpr std::uint8_t proto_stream = 0x1, proto_dgram = 0x2;

ParseResult fail(std::string why)
{
    ParseResult r;
    r.kind = ParseResult::Kind::error;
    r.error = std::move(why);
    return r;
}

ParseResult done(Header h)
{
    ParseResult r;
    r.kind = ParseResult::Kind::header;
    r.header = std::move(h);
    return r;
}

// A v1 port: decimal, 0..65535, no leading zero (the specification forbids them against octal confusion).
std::optional<std::uint16_t> parse_port(std::string_view s)
{
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// The line between "PROXY " and CRLF.
ParseResult parse_v1_line(std::string_view line, std::size_t length)
{
    Header h;
    h.version = 1;
    h.length = length;
    constexpr std::string_view unknown = "UNKNOWN";
    if (line.substr(0, unknown.size()) == unknown) {
        // The specification: the receiver ignores whatever follows UNKNOWN.
        if (line.size() == unknown.size() || line[unknown.size()] == ' ')
            return done(h);
        return fail("v1: unknown protocol \"" + std::string(line.substr(0, line.find(' '))) + "\"");
    }
    std::vector<std::string_view> fields;
    for (std::size_t pos = 0;;) {
        const auto sp = line.find(' ', pos);
        fields.push_back(line.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
        if (sp == std::string_view::npos)
            break;
        pos = sp + 1;
    }
    const bool v4 = fields[0] == "TCP4";
    if (!v4 && fields[0] != "TCP6")
        return fail("v1: unknown protocol \"" + std::string(fields[0]) + "\"");
    if (fields.size() != 5)
        return fail("v1: expected 4 fields after " + std::string(fields[0]) + ", got " +
                    std::to_string(fields.size() - 1));
    // parse_v4 takes only a full dotted quad without leading zeros; parse_v6 only IPv6 text.
    auto address = [v4](std::string_view s) { return v4 ? IpAddress::parse_v4(s) : IpAddress::parse_v6(s); };
    const auto src = address(fields[1]);
    const auto dst = address(fields[2]);
    if (!src || !dst)
        return fail("v1: malformed " + std::string(v4 ? "IPv4" : "IPv6") + " address \"" +
                    std::string(src ? fields[2] : fields[1]) + "\"");
    const auto sport = parse_port(fields[3]);
    const auto dport = parse_port(fields[4]);
    if (!sport || !dport)
        return fail("v1: malformed port \"" + std::string(sport ? fields[4] : fields[3]) + "\"");
    h.source = Endpoint{*src, *sport};
    h.destination = Endpoint{*dst, *dport};
    return done(h);
}

ParseResult parse_v1(std::span<const std::uint8_t> data)
{
    const auto n = std::min(data.size(), v1_prefix.size());
    if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n), v1_prefix.begin()))
        return fail("not a PROXY protocol header");
    // Scan for CRLF within the 107 bytes allowed, rejecting what can never be
    // part of a line as soon as it arrives (a client dripping garbage is
    // turned away at its first wrong byte, not at the timeout).
    const auto limit = std::min(data.size(), v1_max_length);
    for (std::size_t i = 0; i < limit; ++i) {
        const auto c = data[i];
        if (c == '\r') {
            if (i + 1 >= v1_max_length)
                break; // its LF would be byte 108
            if (i + 1 == data.size())
                return ParseResult{}; // the LF may still come
            if (data[i + 1] != '\n')
                return fail("v1: CR not followed by LF");
            const std::string_view line(reinterpret_cast<const char*>(data.data()) + v1_prefix.size(),
                                        i - v1_prefix.size());
            return parse_v1_line(line, i + 2);
        }
        if (c == '\n')
            return fail("v1: LF without CR");
        if (c < 0x20 || c > 0x7e)
            return fail("v1: control or non-ASCII byte in the header");
    }
    if (limit == v1_max_length)
        return fail("v1: no CRLF within " + std::to_string(v1_max_length) + " bytes");
    return ParseResult{};
}

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

ParseResult parse_v2(std::span<const std::uint8_t> data)
{
    const auto n = std::min(data.size(), v2_signature.size());
    if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n), v2_signature.begin()))
        return fail("not a PROXY protocol header (wrong v2 signature)");
    if (data.size() > 12) {
        const unsigned version = data[12] >> 4, command = data[12] & 0x0f;
        if (version != 2)
            return fail("v2: version " + std::to_string(version) + " (only 2 is defined)");
        if (command != cmd_local && command != cmd_proxy)
            return fail("v2: unknown command " + std::to_string(command));
    }
    if (data.size() > 13) {
        const unsigned family = data[13] >> 4, protocol = data[13] & 0x0f;
        if (family > af_unix)
            return fail("v2: unknown address family " + std::to_string(family));
        if (protocol > proto_dgram)
            return fail("v2: unknown transport protocol " + std::to_string(protocol));
    }
    if (data.size() < v2_fixed_length)
        return ParseResult{};
    const std::size_t payload = be16(&data[14]);
    if (payload > v2_max_payload)
        return fail("v2: header of " + std::to_string(v2_fixed_length + payload) + " bytes (at most " +
                    std::to_string(max_header_length) + " accepted)");
    if (data.size() < v2_fixed_length + payload)
        return ParseResult{};

    Header h;
    h.version = 2;
    h.length = v2_fixed_length + payload;
    const unsigned command = data[12] & 0x0f, family = data[13] >> 4, protocol = data[13] & 0x0f;
    // LOCAL (a health check by the proxy itself) and families we do not
    // forward fall back to the connection's own endpoints, as the
    // specification asks; the length still tells how much to skip.
    if (command == cmd_local || protocol != proto_stream || (family != af_inet && family != af_inet6))
        return done(h);
    const std::size_t alen = family == af_inet ? 4 : 16;
    if (payload < 2 * alen + 4)
        return fail("v2: address block of " + std::to_string(payload) + " bytes, " + std::to_string(2 * alen + 4) +
                    " needed for " + (family == af_inet ? "IPv4" : "IPv6"));
    const std::uint8_t* p = &data[v2_fixed_length];
    IpAddress src, dst;
    src.family = dst.family = family == af_inet ? IpAddress::Family::v4 : IpAddress::Family::v6;
    std::copy_n(p, alen, src.bytes.begin());
    std::copy_n(p + alen, alen, dst.bytes.begin());
    h.source = Endpoint{src, be16(p + 2 * alen)};
    h.destination = Endpoint{dst, be16(p + 2 * alen + 2)};
    return done(h);
}

IpAddress mapped_v6(const IpAddress& a)
{
    if (!a.is_v4())
        return a;
    IpAddress m;
    m.family = IpAddress::Family::v6;
    m.bytes[10] = m.bytes[11] = 0xff;
    std::copy_n(a.bytes.begin(), 4, m.bytes.begin() + 12);
    return m;
}

// Both endpoints in one family, IPv4 where both allow it.
std::pair<Endpoint, Endpoint> same_family(Endpoint s, Endpoint d)
{
    s.ip = s.ip.unmapped();
    d.ip = d.ip.unmapped();
    if (s.ip.family != d.ip.family) {
        s.ip = mapped_v6(s.ip);
        d.ip = mapped_v6(d.ip);
    }
    return {s, d};
}

void put16(std::string& out, std::uint16_t v)
{
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

} // namespace

ParseResult parse(std::span<const std::uint8_t> data)
{
    if (data.empty())
        return ParseResult{};
    if (data[0] == v2_signature[0])
        return parse_v2(data);
    return parse_v1(data);
}

std::string encode_v1(const Endpoint& source, const Endpoint& destination)
{
    const auto [s, d] = same_family(source, destination);
    return std::string("PROXY ") + (s.ip.is_v4() ? "TCP4 " : "TCP6 ") + s.ip.str() + ' ' + d.ip.str() + ' ' +
           std::to_string(s.port) + ' ' + std::to_string(d.port) + "\r\n";
}

std::string encode_v2(const Endpoint& source, const Endpoint& destination)
{
    const auto [s, d] = same_family(source, destination);
    const bool v4 = s.ip.is_v4();
    const std::size_t alen = v4 ? 4 : 16;
    std::string out(v2_signature.begin(), v2_signature.end());
    out.push_back(static_cast<char>(0x20 | cmd_proxy));
    out.push_back(static_cast<char>(((v4 ? af_inet : af_inet6) << 4) | proto_stream));
    put16(out, static_cast<std::uint16_t>(2 * alen + 4));
    out.append(s.ip.bytes.begin(), s.ip.bytes.begin() + static_cast<std::ptrdiff_t>(alen));
    out.append(d.ip.bytes.begin(), d.ip.bytes.begin() + static_cast<std::ptrdiff_t>(alen));
    put16(out, s.port);
    put16(out, d.port);
    return out;
}

std::string encode(int version, const Endpoint& source, const Endpoint& destination)
{
    return version == 2 ? encode_v2(source, destination) : encode_v1(source, destination);
}

} // namespace tcpproxy::proxy_protocol
