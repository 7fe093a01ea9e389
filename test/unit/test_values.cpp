#include "tcpproxy/config/values.hpp"
#include "tcpproxy/cli/settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE(address_round_trip)
{
    BOOST_TEST(IpAddress::parse("192.0.2.1")->str() == "192.0.2.1");
    BOOST_TEST(IpAddress::parse("2001:DB8::1")->str() == "2001:db8::1");
    BOOST_TEST(!IpAddress::parse("10.1"));
    BOOST_TEST(!IpAddress::parse("1.2.3.4.5"));
    BOOST_TEST(!IpAddress::parse("010.1.1.1x"));
    BOOST_TEST(IpAddress::parse("::ffff:10.0.0.1")->unmapped().str() == "10.0.0.1");
    BOOST_TEST(IpAddress::parse("10.0.0.255")->next().str() == "10.0.1.0");
    Endpoint e{*IpAddress::parse("::1"), 25};
    BOOST_TEST(e.str() == "[::1]:25");
}

BOOST_AUTO_TEST_CASE(ports)
{
    BOOST_TEST(parse_port("25").value() == 25);
    BOOST_TEST(parse_port("65535").value() == 65535);
    BOOST_TEST(!parse_port("0"));
    BOOST_TEST(!parse_port("65536"));
    BOOST_TEST(!parse_port("25x"));
    BOOST_TEST(!parse_port(""));
    BOOST_TEST(!parse_port("no-such-service-here"));
}

BOOST_AUTO_TEST_CASE(interfaces)
{
    BOOST_TEST((parse_interface("*").spec->kind == InterfaceSpec::Kind::any));
    BOOST_TEST((parse_interface("any").spec->kind == InterfaceSpec::Kind::any));
    auto p = parse_interface("192.0.2.1");
    BOOST_TEST((p.spec->kind == InterfaceSpec::Kind::address));
    p = parse_interface("::1");
    BOOST_TEST((p.spec->kind == InterfaceSpec::Kind::address));
    BOOST_TEST(!p.spec->address.is_v4());
    BOOST_TEST((parse_interface("[::1]").spec->kind == InterfaceSpec::Kind::address));
    p = parse_interface("ppp0");
    BOOST_TEST((p.spec->kind == InterfaceSpec::Kind::nic));
    BOOST_TEST(p.spec->name == "ppp0");
    BOOST_TEST(!parse_interface("192.0.2").spec);   // starts with a digit: must be a dotted quad
    BOOST_TEST(!parse_interface("1eth").spec);
    BOOST_TEST(!parse_interface("a-very-long-interface-name").spec);
    BOOST_TEST(!parse_interface("eth/0").spec);
    BOOST_TEST(!parse_interface("fe80::zz").spec);
}

BOOST_AUTO_TEST_CASE(upstreams)
{
    auto u = parse_upstream("mail.example.org:25");
    BOOST_TEST(u.upstream->host == "mail.example.org");
    BOOST_TEST(u.upstream->port.value() == 25);
    u = parse_upstream("192.0.2.5");
    BOOST_TEST(!u.upstream->port);
    u = parse_upstream("[2001:db8::1]:587");
    BOOST_TEST(u.upstream->host == "2001:db8::1");
    BOOST_TEST(u.upstream->port.value() == 587);
    BOOST_TEST(parse_upstream("[::1]").upstream.has_value());
    for (const char* bad : {"2001:db8::1:25", "[::1", "[::1]x", "host:0", "host:99999", ":25", "300.1.1.1:25", "[zz::]:1", "host:"})
        BOOST_TEST(!parse_upstream(bad).upstream, bad);
}

BOOST_AUTO_TEST_CASE(identities)
{
    auto i = parse_identity("root");
    BOOST_TEST_REQUIRE(i.identity.has_value());
    BOOST_TEST(*i.identity->uid == 0u);
    BOOST_TEST(*i.identity->gid == 0u);
    i = parse_identity("1234");
    BOOST_TEST(*i.identity->uid == 1234u);
    BOOST_TEST(!i.identity->gid);
    i = parse_identity("root.0");
    BOOST_TEST(*i.identity->gid == 0u);
    i = parse_identity("root:root");
    BOOST_TEST(*i.identity->gid == 0u);
    i = parse_identity(".root");
    BOOST_TEST(!i.identity->uid);
    BOOST_TEST(*i.identity->gid == 0u);
    BOOST_TEST(!parse_identity("no-such-user-xyz").identity);
    BOOST_TEST(!parse_identity("root.no-such-group-xyz").identity);
    BOOST_TEST(!parse_identity("root.").identity);
    BOOST_TEST(!parse_identity("").identity);
}

BOOST_AUTO_TEST_CASE(statuses)
{
    BOOST_TEST((parse_status("access") == Status::access));
    BOOST_TEST((parse_status("Timeout") == Status::timeout));
    BOOST_TEST(!parse_status("any"));
    BOOST_TEST(status_name(Status::proxy) == "PROXY");
    BOOST_TEST(status_code(Status::client) == 6);
}

BOOST_AUTO_TEST_SUITE_END()
