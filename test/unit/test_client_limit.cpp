#include "tcpproxy/session/client_limit.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {

IpAddress ip(const char* t) { return *IpAddress::parse(t); }

} // namespace

BOOST_AUTO_TEST_SUITE(client_limit)

BOOST_AUTO_TEST_CASE(ipv6_clients_count_per_64_and_ipv4_per_address)
{
    BOOST_TEST(client_key(ip("2001:db8:1:2:aaaa::1")).str() == "2001:db8:1:2::");
    BOOST_TEST((client_key(ip("2001:db8:1:2::1")) == client_key(ip("2001:db8:1:2:ffff::9"))));
    BOOST_TEST((client_key(ip("::ffff:192.0.2.1")) == ip("192.0.2.1")));
    BOOST_TEST(!(client_key(ip("192.0.2.1")) == client_key(ip("192.0.2.2"))));
}

BOOST_AUTO_TEST_CASE(a_client_gets_at_most_max_slots_per_service_until_one_is_released)
{
    Service a, b;
    auto one = ClientSlot::take(&a, ip("2001:db8::1"), 2);
    auto two = ClientSlot::take(&a, ip("2001:db8::2"), 2); // the same /64
    BOOST_REQUIRE(one);
    BOOST_REQUIRE(two);
    BOOST_TEST(!ClientSlot::take(&a, ip("2001:db8::3"), 2), "a third session of the same /64");
    BOOST_TEST(ClientSlot::take(&a, ip("2001:db8:0:1::1"), 2).has_value(), "another /64");
    BOOST_TEST(ClientSlot::take(&b, ip("2001:db8::3"), 2).has_value(), "another service");
    BOOST_TEST(ClientSlot::take(&a, ip("0.0.0.0"), 2).has_value(), "IPv4 is counted apart");
    one->release();
    auto three = ClientSlot::take(&a, ip("2001:db8::3"), 2);
    BOOST_TEST(three.has_value(), "a released slot is free again");
    ClientSlot moved = std::move(*two);
    BOOST_TEST(!ClientSlot::take(&a, ip("2001:db8::4"), 2), "moving a slot keeps it counted");
}

BOOST_AUTO_TEST_SUITE_END()
