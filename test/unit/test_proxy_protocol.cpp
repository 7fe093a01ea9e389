#include "tcpproxy/session/proxy_protocol.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace tcpproxy;
namespace pp = tcpproxy::proxy_protocol;
using Kind = pp::ParseResult::Kind;

namespace {

pp::ParseResult parse(const std::string& bytes)
{
    return pp::parse(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Endpoint ep(const char* ip, std::uint16_t port) { return Endpoint{*IpAddress::parse(ip), port}; }

const std::string v2sig("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);

std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& payload)
{
    std::string out = v2sig;
    out.push_back(static_cast<char>(ver_cmd));
    out.push_back(static_cast<char>(fam));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xff));
    return out + payload;
}

// Every proper prefix of a complete header asks for more: a reader may
// consume those bytes without ever taking payload.
void every_prefix_needs_more(const std::string& header)
{
    for (std::size_t n = 0; n < header.size(); ++n) {
        const auto r = parse(header.substr(0, n));
        BOOST_TEST((r.kind == Kind::need_more), "prefix of " << n << " bytes: " << r.error);
    }
}

void expect_error(const std::string& bytes, const std::string& fragment)
{
    const auto r = parse(bytes);
    BOOST_TEST_REQUIRE((r.kind == Kind::error), "accepted: " << bytes.size() << " bytes");
    BOOST_TEST(r.error.find(fragment) != std::string::npos, r.error << " lacks " << fragment);
}

} // namespace

BOOST_AUTO_TEST_SUITE(proxy_protocol)

BOOST_AUTO_TEST_CASE(v1_tcp4_with_payload_after_it)
{
    const std::string header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
    const auto r = parse(header + "GET / HTTP/1.0\r\n");
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.version == 1);
    BOOST_TEST(r.header.length == header.size());
    BOOST_TEST(r.header.source->str() == "192.0.2.1:56324");
    BOOST_TEST(r.header.destination->str() == "198.51.100.2:443");
    every_prefix_needs_more(header);
}

BOOST_AUTO_TEST_CASE(v1_tcp6_and_extremes)
{
    const std::string header = "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n";
    const auto r = parse(header);
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.source->str() == "[2001:db8::1]:0");
    BOOST_TEST(r.header.destination->str() == "[::1]:65535");
    every_prefix_needs_more(header);
}

BOOST_AUTO_TEST_CASE(v1_unknown_uses_the_real_endpoints)
{
    auto r = parse("PROXY UNKNOWN\r\n");
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(!r.header.source.has_value());
    BOOST_TEST(r.header.length == 15u);
    // The longest line the specification allows: exactly 107 bytes.
    const std::string longest = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    BOOST_TEST_REQUIRE(longest.size() == pp::v1_max_length);
    r = parse(longest);
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.length == 107u);
    expect_error("PROXY UNKNOWNX\r\n", "unknown protocol");
}

BOOST_AUTO_TEST_CASE(v1_oversize)
{
    const std::string line = "PROXY UNKNOWN " + std::string(200, 'a');
    expect_error(line.substr(0, 107), "no CRLF within 107");
    expect_error(line.substr(0, 106) + "\r\n", "no CRLF within 107"); // LF as byte 108
    BOOST_TEST((parse(line.substr(0, 106)).kind == Kind::need_more));
}

BOOST_AUTO_TEST_CASE(v1_malformed)
{
    expect_error("GET / HTTP/1.0\r\n", "not a PROXY");
    expect_error("PROXZ", "not a PROXY");
    expect_error("PROXY TCP5 1.2.3.4 1.2.3.5 1 2\r\n", "unknown protocol");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1\r\n", "expected 4 fields");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1 2 3\r\n", "expected 4 fields");
    expect_error("PROXY TCP4  1.2.3.4 1.2.3.5 1 2\r\n", "expected 4 fields");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1 2 \r\n", "expected 4 fields");
    expect_error("PROXY TCP4 1.2.3.400 1.2.3.5 1 2\r\n", "malformed IPv4");
    expect_error("PROXY TCP4 01.2.3.4 1.2.3.5 1 2\r\n", "malformed IPv4"); // no leading zeros
    expect_error("PROXY TCP4 ::1 1.2.3.5 1 2\r\n", "malformed IPv4");
    expect_error("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "malformed IPv6");
    expect_error("PROXY TCP6 ::1 ::g 1 2\r\n", "malformed IPv6");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 65536 2\r\n", "malformed port");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1 080\r\n", "malformed port");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 -1 2\r\n", "malformed port");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n", "LF without CR");
    expect_error("PROXY TCP4 1.2.3.4 1.2.3.5 1 2\rX", "CR not followed by LF");
    // Early rejection: a control byte is refused before any CRLF arrives.
    expect_error(std::string("PROXY TCP4 1.2\0", 15), "control");
}

BOOST_AUTO_TEST_CASE(v2_tcp4_proxy)
{
    const std::string addr("\xC0\x00\x02\x01" // 192.0.2.1
                           "\xC6\x33\x64\x02" // 198.51.100.2
                           "\xDC\x04"         // 56324
                           "\x01\xBB",        // 443
                           12);
    const std::string header = v2(0x21, 0x11, addr);
    const auto r = parse(header + "payload");
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.version == 2);
    BOOST_TEST(r.header.length == 28u);
    BOOST_TEST(r.header.source->str() == "192.0.2.1:56324");
    BOOST_TEST(r.header.destination->str() == "198.51.100.2:443");
    every_prefix_needs_more(header);
}

BOOST_AUTO_TEST_CASE(v2_tcp6_with_tlvs_skipped)
{
    std::string addr(36, '\0');
    addr[0] = '\x20';
    addr[1] = '\x01';
    addr[2] = '\x0d';
    addr[3] = '\xb8';
    addr[15] = '\x01'; // 2001:db8::1
    addr[31] = '\x02'; // ::2
    addr[32] = '\x30';
    addr[33] = '\x39'; // 12345
    addr[34] = '\x00';
    addr[35] = '\x19'; // 25
    const std::string tlv("\x04\x00\x03"
                          "abc",
                          6); // PP2_TYPE_NOOP with 3 bytes
    const std::string header = v2(0x21, 0x21, addr + tlv);
    const auto r = parse(header + "x");
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.length == 16u + 36u + 6u);
    BOOST_TEST(r.header.source->str() == "[2001:db8::1]:12345");
    BOOST_TEST(r.header.destination->str() == "[::2]:25");
}

BOOST_AUTO_TEST_CASE(v2_local_and_unspec_fall_back)
{
    // LOCAL: any address block is skipped, never used.
    auto r = parse(v2(0x20, 0x11, std::string(12, '\x01')));
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(!r.header.source.has_value());
    BOOST_TEST(r.header.length == 28u);
    r = parse(v2(0x20, 0x00, ""));
    BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
    BOOST_TEST(r.header.length == 16u);
    // PROXY over UNSPEC, UNIX or UDP: the connection's own endpoints apply.
    for (std::uint8_t fam : {0x00, 0x31, 0x12}) {
        r = parse(v2(0x21, fam, std::string(fam == 0x31 ? 216 : 12, '\0')));
        BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
        BOOST_TEST(!r.header.source.has_value());
    }
}

BOOST_AUTO_TEST_CASE(v2_malformed)
{
    expect_error(std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 12), "wrong v2 signature");
    expect_error(std::string("\x0D\x0A\x0D\x0B", 4), "wrong v2 signature"); // early, before 12 bytes
    expect_error(v2(0x11, 0x11, std::string(12, '\0')), "version 1");
    expect_error(v2(0x22, 0x11, std::string(12, '\0')), "unknown command 2");
    expect_error(v2(0x21, 0x41, std::string(12, '\0')), "unknown address family 4");
    expect_error(v2(0x21, 0x13, std::string(12, '\0')), "unknown transport protocol 3");
    expect_error(v2(0x21, 0x11, std::string(8, '\0')), "address block of 8 bytes, 12 needed");
    expect_error(v2(0x21, 0x21, std::string(12, '\0')), "address block of 12 bytes, 36 needed");
    // Family errors show as soon as byte 14 arrives, not after the length.
    expect_error(v2(0x21, 0x51, "").substr(0, 14), "unknown address family 5");
}

BOOST_AUTO_TEST_CASE(v2_oversize_and_truncated)
{
    const std::string big = v2(0x21, 0x11, std::string(pp::v2_max_payload + 1, '\0'));
    expect_error(big.substr(0, 16), "at most");
    const std::string ok = v2(0x21, 0x11, std::string(pp::v2_max_payload, '\0'));
    BOOST_TEST((parse(ok).kind == Kind::header));
    BOOST_TEST((parse(ok.substr(0, ok.size() - 1)).kind == Kind::need_more));
}

BOOST_AUTO_TEST_CASE(encode_round_trips)
{
    for (int version : {1, 2}) {
        for (auto [s, d] : {std::pair{ep("192.0.2.1", 1234), ep("127.0.0.1", 80)},
                            std::pair{ep("2001:db8::7", 65535), ep("::1", 0)}}) {
            const auto bytes = pp::encode(version, s, d);
            const auto r = parse(bytes);
            BOOST_TEST_REQUIRE((r.kind == Kind::header), r.error);
            BOOST_TEST(r.header.version == version);
            BOOST_TEST(r.header.length == bytes.size());
            BOOST_TEST(r.header.source->str() == s.str());
            BOOST_TEST(r.header.destination->str() == d.str());
        }
    }
    BOOST_TEST(pp::encode_v1(ep("192.0.2.1", 1234), ep("127.0.0.1", 80)) ==
               "PROXY TCP4 192.0.2.1 127.0.0.1 1234 80\r\n");
}

BOOST_AUTO_TEST_CASE(encode_mixed_families)
{
    // A client on a dual-stack socket is IPv4-mapped: sent as plain IPv4.
    BOOST_TEST(pp::encode_v1(ep("::ffff:192.0.2.1", 1), ep("::ffff:127.0.0.1", 2)) ==
               "PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n");
    // Truly mixed: the IPv4 side is mapped into IPv6.
    BOOST_TEST(pp::encode_v1(ep("192.0.2.1", 1), ep("::1", 2)) == "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n");
    const auto v2bytes = pp::encode_v2(ep("192.0.2.1", 1), ep("::1", 2));
    BOOST_TEST(v2bytes.size() == 16u + 36u);
    BOOST_TEST(static_cast<unsigned char>(v2bytes[13]) == 0x21u);
}

BOOST_AUTO_TEST_SUITE_END()
