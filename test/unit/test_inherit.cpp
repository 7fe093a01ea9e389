// Three-level inheritance (reference §3.2/§3.3): global defaults -> port
// level -> interface section, innermost wins; server/exec and srcip/rotate
// are decided together by the innermost level that sets either.
#include "test_validate_helpers.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;
using namespace tcpproxy::test;

BOOST_AUTO_TEST_SUITE(config_inheritance)

BOOST_AUTO_TEST_CASE(defaults_when_nothing_is_set)
{
    const auto s = valid("port 10025\n  server a\n")->ports[0].services[0];
    BOOST_TEST(s.timeout == 60u);
    BOOST_TEST((s.redirect == RedirectMode::none));
    BOOST_TEST(s.logname == "tcpproxy");
    BOOST_TEST(s.var_prefix == "PROXY_");
    BOOST_TEST(s.name.empty());
    BOOST_TEST(s.acl.empty());
    BOOST_TEST(s.acp.empty());
    BOOST_TEST(!s.srcip);
    BOOST_TEST(!s.rotate);
    BOOST_TEST(s.user.text.empty());
    BOOST_TEST(s.writefile.empty());
    BOOST_TEST(!s.debug);
    BOOST_TEST(!s.extended_info);
    BOOST_TEST(s.proxy_protocol == 0);
    BOOST_TEST(!s.accept_proxy);
}

BOOST_AUTO_TEST_CASE(port_without_interface_is_one_wildcard_section)
{
    const auto c = valid("\nport 10025\n  server a\n");
    BOOST_TEST_REQUIRE(c->ports[0].services.size() == 1u);
    const auto& s = c->ports[0].services[0];
    BOOST_TEST((s.interface.kind == InterfaceSpec::Kind::any));
    BOOST_TEST(s.interface.text == "*");
    BOOST_TEST(s.line == 2);
    BOOST_TEST(c->ports[0].line == 2);
}

BOOST_AUTO_TEST_CASE(innermost_level_wins)
{
    const auto c = valid("timeout 10\n"
                         "logname glob\n"
                         "name global\n"
                         "server g\n"
                         "port 1\n"
                         "  timeout 20\n"
                         "  logname porty\n"
                         "  interface 127.0.0.1\n"
                         "    timeout 30\n"
                         "  interface 127.0.0.2\n"
                         "port 2\n"
                         "  interface 127.0.0.1\n");
    const auto& p1 = c->ports[0].services;
    BOOST_TEST(p1[0].timeout == 30u);
    BOOST_TEST(p1[0].logname == "porty");
    BOOST_TEST(p1[0].name == "global");
    BOOST_TEST(p1[1].timeout == 20u);
    BOOST_TEST(p1[1].logname == "porty");
    const auto& p2 = c->ports[1].services[0];
    BOOST_TEST(p2.timeout == 10u);
    BOOST_TEST(p2.logname == "glob");
    BOOST_TEST(p2.servers[0].host == "g");
}

BOOST_AUTO_TEST_CASE(every_service_setting_inherits)
{
    const auto s = valid("acl 10.0.0.0/8\n"
                         "acp /bin/true\n"
                         "timeout 5\n"
                         "redirect-mode accept\n"
                         "srcip 127.0.0.1\n"
                         "user root\n"
                         "debug /tmp/d\n"
                         "extended-info yes\n"
                         "logname l\n"
                         "name n\n"
                         "setenv P_\n"
                         "proxy-protocol v2\n"
                         "accept-proxy yes\n"
                         "exec /bin/cat\n"
                         "port 1\n"
                         "  interface *\n")
                       ->ports[0]
                       .services[0];
    BOOST_TEST(s.acl.size() == 1u);
    BOOST_TEST(s.acp == "/bin/true");
    BOOST_TEST(s.timeout == 5u);
    BOOST_TEST((s.redirect == RedirectMode::accept));
    BOOST_TEST(s.srcip->str() == "127.0.0.1");
    BOOST_TEST(s.user.uid.value() == 0u);
    BOOST_TEST(s.writefile == "/tmp/d");
    BOOST_TEST(s.debug);
    BOOST_TEST(s.extended_info);
    BOOST_TEST(s.logname == "l");
    BOOST_TEST(s.name == "n");
    BOOST_TEST(s.var_prefix == "P_");
    BOOST_TEST(s.proxy_protocol == 2);
    BOOST_TEST(s.accept_proxy);
    BOOST_TEST(s.exec == std::vector<std::string>{"/bin/cat"});
}

BOOST_AUTO_TEST_CASE(port_level_server_is_inherited_by_sections)
{
    const auto c = valid("port 1\n  server a:1\n  interface 127.0.0.1\n  interface 127.0.0.2\n    server b:2\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST(s[0].servers[0].host == "a");
    BOOST_TEST(s[1].servers[0].host == "b");
}

BOOST_AUTO_TEST_CASE(inner_exec_replaces_outer_server_and_back)
{
    const auto c = valid("server g\n"
                         "port 1\n"
                         "  exec /bin/cat\n"
                         "  interface 127.0.0.1\n"
                         "    server i\n"
                         "  interface 127.0.0.2\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST(s[0].servers.size() == 1u);
    BOOST_TEST(s[0].exec.empty());
    BOOST_TEST(s[1].servers.empty());
    BOOST_TEST(s[1].exec == std::vector<std::string>{"/bin/cat"});
}

BOOST_AUTO_TEST_CASE(srcip_and_rotate_inherit_independently)
{
    // Both may apply to a service (the session then uses rotate).
    const auto c = valid("srcip 127.0.0.9\nport 1\n  server a\n  interface 127.0.0.1\n    rotate 127.0.0.2 127.0.0.3\n"
                         "  interface 127.0.0.2\n    srcip 127.0.0.8\n    rotate 127.0.0.4 127.0.0.5\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST(s[0].srcip->str() == "127.0.0.9");
    BOOST_TEST(s[0].rotate->first.str() == "127.0.0.2");
    BOOST_TEST(s[1].srcip->str() == "127.0.0.8");
    BOOST_TEST(s[1].rotate->second.str() == "127.0.0.5");
}

BOOST_AUTO_TEST_CASE(acl_lines_add_up_within_a_level_and_inner_replaces_outer)
{
    const auto c = valid("acl 10.0.0.0/8\nacl 10.1.0.0/16\n"
                         "port 1\n  server a\n  interface 127.0.0.1\n    acl -10.2.0.0/16\n  interface 127.0.0.2\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST_REQUIRE(s[0].acl.size() == 1u);
    BOOST_TEST(!s[0].acl[0].allow);
    BOOST_TEST(s[1].acl.size() == 2u);
}

BOOST_AUTO_TEST_CASE(writefile_in_an_inner_level_clears_debug)
{
    const auto c = valid("debug /tmp/d\nport 1\n  server a\n  interface 127.0.0.1\n    writefile /tmp/w\n"
                         "  interface 127.0.0.2\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST(s[0].writefile == "/tmp/w");
    BOOST_TEST(!s[0].debug);
    BOOST_TEST(s[1].writefile == "/tmp/d");
    BOOST_TEST(s[1].debug);
}

BOOST_AUTO_TEST_CASE(same_setting_at_different_levels_is_no_conflict)
{
    auto r = load("timeout 1\nserver a\nport 1\n  timeout 2\n  server b\n  interface *\n    timeout 3\n    server c\n");
    BOOST_TEST(r.diagnostics.items().empty(), dump(r.diagnostics));
    BOOST_TEST(r.config->ports[0].services[0].timeout == 3u);
}

BOOST_AUTO_TEST_CASE(neither_is_reported_per_section)
{
    auto r = load("port 1\n  interface 127.0.0.1\n    server a\n  interface 127.0.0.2\n  interface 127.0.0.3\n");
    std::vector<int> lines;
    for (const auto& d : r.diagnostics.items())
        lines.push_back(d.line);
    BOOST_TEST(lines == (std::vector<int>{4, 5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
