#include "session/upstream.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

BOOST_AUTO_TEST_SUITE(redirect)

BOOST_AUTO_TEST_CASE(modes)
{
    using M = RedirectMode;
    using A = RedirectAction;
    // none ignores redirection entirely, even a looping one.
    BOOST_TEST((redirect_action(M::none, true, false, true) == A::configured));
    BOOST_TEST((redirect_action(M::none, false, false, false) == A::configured));
    // accept: the configured server, redirected or not.
    BOOST_TEST((redirect_action(M::accept, true, false, false) == A::configured));
    BOOST_TEST((redirect_action(M::accept, false, false, false) == A::configured));
    // forward: the original destination when redirected, else the configured server.
    BOOST_TEST((redirect_action(M::forward, true, false, false) == A::original));
    BOOST_TEST((redirect_action(M::forward, false, false, false) == A::configured));
    // forward on an exec service acts as accept.
    BOOST_TEST((redirect_action(M::forward, true, true, false) == A::configured));
    // forward-only drops what was not redirected.
    BOOST_TEST((redirect_action(M::forward_only, false, false, false) == A::refuse_direct));
    BOOST_TEST((redirect_action(M::forward_only, false, true, false) == A::refuse_direct));
    BOOST_TEST((redirect_action(M::forward_only, true, false, false) == A::original));
    // A destination that is ourselves is refused in every active mode.
    for (auto m : {M::accept, M::forward, M::forward_only})
        BOOST_TEST((redirect_action(m, true, false, true) == A::refuse_loop));
}

BOOST_AUTO_TEST_CASE(own_listeners)
{
    Config c;
    PortConfig p;
    p.port = 8025;
    Service s; // interface * : every local address
    p.services.push_back(s);
    c.ports.push_back(p);
    BOOST_TEST(is_own_listener(c, Endpoint{*IpAddress::parse("127.0.0.1"), 8025}));
    BOOST_TEST(is_own_listener(c, Endpoint{*IpAddress::parse("::ffff:127.0.0.1"), 8025}));
    BOOST_TEST(!is_own_listener(c, Endpoint{*IpAddress::parse("127.0.0.1"), 8026}), "another port");
    BOOST_TEST(!is_own_listener(c, Endpoint{*IpAddress::parse("192.0.2.1"), 8025}), "not this host's address");
    c.ports[0].services[0].interface.kind = InterfaceSpec::Kind::address;
    c.ports[0].services[0].interface.address = *IpAddress::parse("127.0.0.2");
    BOOST_TEST(!is_own_listener(c, Endpoint{*IpAddress::parse("127.0.0.1"), 8025}), "a section for another address");
    BOOST_TEST(is_own_listener(c, Endpoint{*IpAddress::parse("127.0.0.2"), 8025}));
}

BOOST_AUTO_TEST_SUITE_END()
