#include "tcpproxy/session/client_name.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {

IpAddress ip(const char* t) { return *IpAddress::parse(t); }

ForwardLookup resolving_to(std::vector<IpAddress> addresses)
{
    return [addresses](const std::string&) { return addresses; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(client_name)

BOOST_AUTO_TEST_CASE(a_forward_confirmed_plain_name_is_used)
{
    BOOST_TEST(confirmed_client_name(ip("192.0.2.7"), "mail.example.org", resolving_to({ip("192.0.2.7")})) ==
               "mail.example.org");
    BOOST_TEST(confirmed_client_name(ip("::ffff:192.0.2.7"), "a-b.example", resolving_to({ip("192.0.2.7")})) ==
               "a-b.example");
}

BOOST_AUTO_TEST_CASE(anything_else_names_the_client_by_its_address)
{
    const auto client = ip("192.0.2.7");
    BOOST_TEST(confirmed_client_name(client, "bank.example", resolving_to({ip("198.51.100.1")})) == "192.0.2.7",
               "the name does not resolve back to the client");
    BOOST_TEST(confirmed_client_name(client, "bank.example", resolving_to({})) == "192.0.2.7");
    for (const char* hostile : {"x;rm -rf", "a b", "evil\x1b[2J.example", "under_score.example", "é.example", ""})
        BOOST_TEST(confirmed_client_name(client, hostile, resolving_to({client})) == "192.0.2.7", hostile);
    BOOST_TEST(confirmed_client_name(client, "192.0.2.7", resolving_to({client})) == "192.0.2.7");
}

BOOST_AUTO_TEST_SUITE_END()
