#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {
Acl acl_of(std::initializer_list<const char*> items)
{
    Acl acl;
    for (const char* text : items) {
        auto p = grammar::acl_item(text);
        BOOST_TEST_REQUIRE(p.has_value(), text << ": " << (p ? std::string() : p.error().message));
        acl.push_back(p->item);
    }
    return acl;
}
IpAddress ip(const char* text) { return *IpAddress::parse(text); }
} // namespace

BOOST_AUTO_TEST_SUITE(acl)

BOOST_AUTO_TEST_CASE(item_forms)
{
    auto p = grammar::acl_item("10.1.0.0/16");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->item.allow);
    BOOST_TEST(p->item.prefix == 16u);
    BOOST_TEST(!p->host_bits);
    p = grammar::acl_item("-192.0.2.0/255.255.255.0");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(!p->item.allow);
    BOOST_TEST(p->item.prefix == 24u);
    p = grammar::acl_item("+2001:db8::/32");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->item.prefix == 32u);
    BOOST_TEST(!p->item.network.is_v4());
    p = grammar::acl_item("198.51.100.7");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->item.prefix == 32u);
}

BOOST_AUTO_TEST_CASE(host_bits_warn_and_are_cleared)
{
    const auto p = grammar::acl_item("10.1.2.3/16");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->host_bits);
    BOOST_TEST(p->item.network.str() == "10.1.0.0");
}

BOOST_AUTO_TEST_CASE(bad_items)
{
    for (const char* bad : {"10.1/16", "10.1.0.0/33", "10.0.0.0/255.0.255.0", "10.0.0.0/", "host", "", "2001:db8::/129",
                            "1.2.3.4/x", "256.1.1.1", "+-1.2.3.4", "::1/255.0.0.0"}) {
        const auto p = grammar::acl_item(bad);
        BOOST_TEST(!p.has_value(), bad);
        BOOST_TEST(!p.error().message.empty(), bad);
    }
}

BOOST_AUTO_TEST_CASE(empty_acl_allows) { BOOST_TEST(acl_allows({}, ip("192.0.2.1"))); }

BOOST_AUTO_TEST_CASE(no_match_denies)
{
    const auto acl = acl_of({"10.0.0.0/8"});
    BOOST_TEST(acl_allows(acl, ip("10.9.9.9")));
    BOOST_TEST(!acl_allows(acl, ip("11.0.0.1")));
}

BOOST_AUTO_TEST_CASE(longest_prefix_decides)
{
    const auto acl = acl_of({"10.0.0.0/8", "-10.1.0.0/16", "10.1.2.0/24"});
    BOOST_TEST(acl_allows(acl, ip("10.2.0.1")));
    BOOST_TEST(!acl_allows(acl, ip("10.1.3.1")));
    BOOST_TEST(acl_allows(acl, ip("10.1.2.200")));
    // Order of items does not matter.
    const auto reversed = acl_of({"10.1.2.0/24", "-10.1.0.0/16", "10.0.0.0/8"});
    BOOST_TEST(!acl_allows(reversed, ip("10.1.3.1")));
    BOOST_TEST(acl_allows(reversed, ip("10.1.2.200")));
}

BOOST_AUTO_TEST_CASE(tie_denies)
{
    BOOST_TEST(!acl_allows(acl_of({"10.0.0.0/8", "-10.0.0.0/8"}), ip("10.0.0.1")));
    BOOST_TEST(!acl_allows(acl_of({"-10.0.0.0/8", "10.0.0.0/8"}), ip("10.0.0.1")));
}

BOOST_AUTO_TEST_CASE(deny_list_with_default_allow)
{
    const auto acl = acl_of({"0.0.0.0/0", "-127.0.0.2"});
    BOOST_TEST(acl_allows(acl, ip("127.0.0.1")));
    BOOST_TEST(!acl_allows(acl, ip("127.0.0.2")));
}

BOOST_AUTO_TEST_CASE(ipv6_and_mapped)
{
    const auto acl = acl_of({"2001:db8::/32", "127.0.0.0/8"});
    BOOST_TEST(acl_allows(acl, ip("2001:db8:1::5")));
    BOOST_TEST(!acl_allows(acl, ip("2001:db9::1")));
    // An IPv4 client seen on a dual-stack socket is matched as IPv4.
    BOOST_TEST(acl_allows(acl, ip("::ffff:127.0.0.1")));
    BOOST_TEST(!acl_allows(acl, ip("::ffff:10.0.0.1")));
    // A v4 item never matches a v6 client, and /0 of one family is not the other.
    BOOST_TEST(!acl_allows(acl_of({"0.0.0.0/0"}), ip("::1")));
}

BOOST_AUTO_TEST_SUITE_END()
