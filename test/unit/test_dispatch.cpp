#include "server/listener.hpp"
#include "tcpproxy/config/dispatch.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {

IpAddress ip(const char* t) { return *IpAddress::parse(t); }

Service section(const char* iface)
{
    Service s;
    s.interface.text = iface;
    if (std::string(iface) == "*" || std::string(iface) == "any")
        s.interface.kind = InterfaceSpec::Kind::any;
    else if (auto a = IpAddress::parse(iface)) {
        s.interface.kind = InterfaceSpec::Kind::address;
        s.interface.address = *a;
    } else {
        s.interface.kind = InterfaceSpec::Kind::nic;
        s.interface.name = iface;
    }
    return s;
}

PortConfig port_of(std::initializer_list<const char*> ifaces)
{
    PortConfig p;
    p.port = 80;
    for (auto i : ifaces)
        p.services.push_back(section(i));
    return p;
}

const NicLookup no_nics = [](const std::string&) { return std::vector<IpAddress>{}; };

} // namespace

BOOST_AUTO_TEST_SUITE(dispatch)

BOOST_AUTO_TEST_CASE(first_match_in_file_order)
{
    const auto p = port_of({"127.0.0.2", "*", "127.0.0.1"});
    BOOST_TEST(match_service(p, ip("127.0.0.2"), no_nics) == &p.services[0]);
    BOOST_TEST(match_service(p, ip("127.0.0.1"), no_nics) == &p.services[1]); // `*` comes first
}

BOOST_AUTO_TEST_CASE(mapped_local_address_matches_ipv4_section)
{
    const auto p = port_of({"127.0.0.1"});
    BOOST_TEST(match_service(p, ip("::ffff:127.0.0.1"), no_nics) == &p.services[0]);
    BOOST_TEST(match_service(p, ip("::1"), no_nics) == nullptr);
}

BOOST_AUTO_TEST_CASE(nic_section_asks_for_current_addresses)
{
    const auto p = port_of({"ppp0", "any"});
    std::vector<IpAddress> ppp0 = {ip("192.0.2.1")};
    int asked = 0;
    const NicLookup lookup = [&](const std::string& nic) {
        ++asked;
        return nic == "ppp0" ? ppp0 : std::vector<IpAddress>{};
    };
    BOOST_TEST(match_service(p, ip("192.0.2.1"), lookup) == &p.services[0]);
    ppp0 = {ip("192.0.2.99")}; // the link came back with another address
    BOOST_TEST(match_service(p, ip("192.0.2.1"), lookup) == &p.services[1]);
    BOOST_TEST(match_service(p, ip("192.0.2.99"), lookup) == &p.services[0]);
    BOOST_TEST(asked == 3);
}

BOOST_AUTO_TEST_CASE(no_match_is_null)
{
    const auto p = port_of({"10.0.0.1", "eth9"});
    BOOST_TEST(match_service(p, ip("127.0.0.1"), no_nics) == nullptr);
}

BOOST_AUTO_TEST_CASE(port_zero_serves_any_port)
{
    Config c;
    c.ports.push_back(port_of({"*"}));
    c.ports.back().port = 0;
    BOOST_TEST(find_port(c, 4711) == &c.ports[0]);
    c.ports.push_back(port_of({"*"}));
    c.ports.back().port = 4711;
    BOOST_TEST(find_port(c, 4711) == &c.ports[1]); // an exact port wins over "any"
}

BOOST_AUTO_TEST_CASE(bind_plan_addresses_or_wildcard)
{
    const auto specific = bind_plan(port_of({"127.0.0.1", "::1", "127.0.0.1"}));
    BOOST_TEST(!specific.wildcard);
    BOOST_TEST(specific.addresses.size() == 2u);
    BOOST_TEST(bind_plan(port_of({"127.0.0.1", "lo"})).wildcard);
    BOOST_TEST(bind_plan(port_of({"127.0.0.1", "*"})).wildcard);
    BOOST_TEST(bind_plan(port_of({})).wildcard);
}

BOOST_AUTO_TEST_SUITE_END()
