// Validation (reference §3.3/§3.4): every directive with its forms, and every
// error class at its exact line and column.
#include "test_validate_helpers.hpp"

#include "config/suggest.hpp"
#include "tcpproxy/config/check_config.hpp"

#include <boost/test/unit_test.hpp>

#include <netdb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tcpproxy;
using namespace tcpproxy::test;

namespace {

// The service of a one-port config whose section holds `lines`.
Service service_with(const std::string& lines)
{
    auto c = valid("port 10025\n  interface 127.0.0.1\n" + lines);
    return c->ports.at(0).services.at(0);
}

const std::string server_line = "    server 127.0.0.1:10026\n";

} // namespace

BOOST_AUTO_TEST_SUITE(config_directives)

BOOST_AUTO_TEST_CASE(global_directives)
{
    auto c = valid("standalone no\n"
                   "pidfile /run/tp.pid\n"
                   "statdir /var/lib/tp\n"
                   "session-dir /var/spool/tp\n"
                   "session-mode process\n"
                   "exit-code access,Connect, TIMEOUT\n"
                   "exit-handler /usr/bin/handler --mail \"ops team\"\n"
                   "max-sessions 64\n"
                   "port 10025\n  server 127.0.0.1:1\n");
    BOOST_TEST(c->standalone.value() == false);
    BOOST_TEST(c->pidfile == "/run/tp.pid");
    BOOST_TEST(c->statdir == "/var/lib/tp");
    BOOST_TEST(c->session.dir == "/var/spool/tp");
    BOOST_TEST((c->session.mode == SessionMode::process));
    BOOST_TEST(c->session.exit_codes ==
               (status_bit(Status::access) | status_bit(Status::connect) | status_bit(Status::timeout)));
    BOOST_TEST(c->session.exit_handler == (std::vector<std::string>{"/usr/bin/handler", "--mail", "ops team"}),
               boost::test_tools::per_element());
    BOOST_TEST(c->session.active());
    BOOST_TEST(c->max_sessions == 64u);
    BOOST_TEST(c->file == "t.conf");
}

BOOST_AUTO_TEST_CASE(global_defaults)
{
    auto c = valid("port 10025\n  server 127.0.0.1:1\n");
    BOOST_TEST(!c->standalone);
    BOOST_TEST(c->pidfile.empty());
    BOOST_TEST(c->statdir.empty());
    BOOST_TEST(!c->session.active());
    BOOST_TEST(c->max_sessions == 1024u);
}

BOOST_AUTO_TEST_CASE(standalone_yes) { BOOST_TEST(valid("standalone yes\nport 1\n server a\n")->standalone.value()); }

BOOST_AUTO_TEST_CASE(exit_code_forms)
{
    auto codes = [](const std::string& list) {
        return valid("session-dir /d\nsession-mode keep\nexit-code " + list + "\nport 1\n server a\n")
            ->session.exit_codes;
    };
    BOOST_TEST(codes("any") == all_statuses);
    BOOST_TEST(codes("ANY") == all_statuses);
    BOOST_TEST(codes("ok") == status_bit(Status::ok));
    BOOST_TEST(codes("OK,Warning,access,connect,timeout,server,client,proxy") == all_statuses);
    BOOST_TEST(codes("\"client, server\"") == (status_bit(Status::client) | status_bit(Status::server)));
}

BOOST_AUTO_TEST_CASE(session_mode_none_is_off)
{
    BOOST_TEST(!valid("session-mode none\nport 1\n server a\n")->session.active());
}

BOOST_AUTO_TEST_CASE(max_sessions_bounds)
{
    BOOST_TEST(valid("max-sessions 1\nport 1\n server a\n")->max_sessions == 1u);
    BOOST_TEST(valid("max-sessions 100000\nport 1\n server a\n")->max_sessions == 100000u);
}

BOOST_AUTO_TEST_CASE(server_forms)
{
    auto s = service_with("    server mail.example.org 192.0.2.1:25 [2001:db8::1]:2525 [::1] 127.0.0.1:smtp\n");
    BOOST_TEST_REQUIRE(s.servers.size() == 5u);
    BOOST_TEST(s.servers[0].host == "mail.example.org");
    BOOST_TEST(!s.servers[0].port);
    BOOST_TEST(s.servers[1].host == "192.0.2.1");
    BOOST_TEST(s.servers[1].port.value() == 25);
    BOOST_TEST(s.servers[2].host == "2001:db8::1");
    BOOST_TEST(s.servers[2].port.value() == 2525);
    BOOST_TEST(s.servers[3].host == "::1");
    BOOST_TEST(s.servers[4].port.value() == 25);
    BOOST_TEST(s.exec.empty());
}

BOOST_AUTO_TEST_CASE(exec_forms)
{
    auto s = service_with("    exec /usr/local/bin/handler -v \"two words\"\n");
    BOOST_TEST(s.exec == (std::vector<std::string>{"/usr/local/bin/handler", "-v", "two words"}),
               boost::test_tools::per_element());
    BOOST_TEST(s.servers.empty());
}

BOOST_AUTO_TEST_CASE(acl_forms)
{
    auto s = service_with(server_line + "    acl +127.0.0.1,-10.0.0.0/8, 192.168.0.0/255.255.0.0\n"
                                        "    acl \"172.16.0.0/12, -::/0,\" +2001:db8::/32\n");
    BOOST_TEST_REQUIRE(s.acl.size() == 6u);
    BOOST_TEST(s.acl[0].allow);
    BOOST_TEST(s.acl[0].prefix == 32u);
    BOOST_TEST(!s.acl[1].allow);
    BOOST_TEST(s.acl[1].prefix == 8u);
    BOOST_TEST(s.acl[2].allow);
    BOOST_TEST(s.acl[2].prefix == 16u);
    BOOST_TEST(s.acl[3].prefix == 12u);
    BOOST_TEST(!s.acl[4].allow);
    BOOST_TEST(s.acl[4].prefix == 0u);
    BOOST_TEST(s.acl[5].network.str() == "2001:db8::");
}

BOOST_AUTO_TEST_CASE(acl_continues_after_a_trailing_comma)
{
    // "blanks after commas allowed": `a, b` is two arguments that form one list
    BOOST_TEST(service_with(server_line + "    acl 10.0.0.0/8,  \t 10.1.0.0/16\n").acl.size() == 2u);
}

BOOST_AUTO_TEST_CASE(scalar_service_directives)
{
    auto s = service_with(server_line + "    acp /usr/bin/acp\n"
                                        "    timeout 0\n"
                                        "    redirect-mode forward\n"
                                        "    srcip 192.0.2.7\n"
                                        "    user root\n"
                                        "    writefile /var/log/cap\n"
                                        "    extended-info yes\n"
                                        "    logname smtp-in\n"
                                        "    name \"Mail in\"\n"
                                        "    setenv TCPX_\n"
                                        "    proxy-protocol v1\n"
                                        "    accept-proxy yes\n");
    BOOST_TEST(s.acp == "/usr/bin/acp");
    BOOST_TEST(s.timeout == 0u);
    BOOST_TEST(s.connect_timeout() == 60u);
    BOOST_TEST((s.redirect == RedirectMode::forward));
    BOOST_TEST(s.srcip->str() == "192.0.2.7");
    BOOST_TEST(s.user.uid.value() == 0u);
    BOOST_TEST(s.user.gid.value() == 0u);
    BOOST_TEST(s.user.text == "root");
    BOOST_TEST(s.writefile == "/var/log/cap");
    BOOST_TEST(!s.debug);
    BOOST_TEST(s.extended_info);
    BOOST_TEST(s.logname == "smtp-in");
    BOOST_TEST(s.name == "Mail in");
    BOOST_TEST(s.var_prefix == "TCPX_");
    BOOST_TEST(s.proxy_protocol == 1);
    BOOST_TEST(s.accept_proxy);
}

BOOST_AUTO_TEST_CASE(redirect_modes)
{
    auto mode = [](const std::string& m) {
        return service_with(server_line + "    redirect-mode " + m + "\n").redirect;
    };
    BOOST_TEST((mode("none") == RedirectMode::none));
    BOOST_TEST((mode("accept") == RedirectMode::accept));
    BOOST_TEST((mode("forward") == RedirectMode::forward));
    BOOST_TEST((mode("forward-only") == RedirectMode::forward_only));
    BOOST_TEST((mode("only") == RedirectMode::forward_only));
}

BOOST_AUTO_TEST_CASE(timeout_bounds)
{
    BOOST_TEST(service_with(server_line + "    timeout 31536000\n").timeout == 31536000u);
}

BOOST_AUTO_TEST_CASE(user_forms)
{
    auto s = service_with(server_line + "    user root.root\n");
    BOOST_TEST(s.user.uid.value() == 0u);
    BOOST_TEST(s.user.gid.value() == 0u);
    s = service_with(server_line + "    user root:root\n");
    BOOST_TEST(s.user.gid.value() == 0u);
    s = service_with(server_line + "    user 4321\n");
    BOOST_TEST(s.user.uid.value() == 4321u);
    BOOST_TEST(!s.user.gid);
    s = service_with(server_line + "    user .root\n");
    BOOST_TEST(!s.user.uid);
    BOOST_TEST(s.user.gid.value() == 0u);
}

BOOST_AUTO_TEST_CASE(rotate_range)
{
    auto s = service_with(server_line + "    rotate 192.0.2.10 192.0.2.20\n");
    BOOST_TEST(s.rotate->first.str() == "192.0.2.10");
    BOOST_TEST(s.rotate->second.str() == "192.0.2.20");
    BOOST_TEST(!s.srcip);
    BOOST_TEST(service_with(server_line + "    rotate 2001:db8::1 2001:db8::1\n").rotate.has_value());
}

BOOST_AUTO_TEST_CASE(debug_is_writefile_plus_debug)
{
    auto s = service_with(server_line + "    debug /tmp/dbg\n");
    BOOST_TEST(s.writefile == "/tmp/dbg");
    BOOST_TEST(s.debug);
}

BOOST_AUTO_TEST_CASE(proxy_protocol_v2_and_accept_proxy_no)
{
    auto s = service_with(server_line + "    proxy-protocol v2\n    accept-proxy no\n");
    BOOST_TEST(s.proxy_protocol == 2);
    BOOST_TEST(!s.accept_proxy);
}

BOOST_AUTO_TEST_CASE(interface_forms)
{
    auto c = valid("port 10025\n  server a\n"
                   "  interface 127.0.0.1\n"
                   "  interface ::1\n"
                   "  interface [2001:db8::2]\n"
                   "  interface eth0\n"
                   "  interface ppp0\n"
                   "  interface any\n");
    const auto& s = c->ports[0].services;
    BOOST_TEST_REQUIRE(s.size() == 6u);
    using K = InterfaceSpec::Kind;
    BOOST_TEST((s[0].interface.kind == K::address));
    BOOST_TEST(s[0].interface.address.str() == "127.0.0.1");
    BOOST_TEST((s[1].interface.kind == K::address));
    BOOST_TEST(s[1].interface.address.str() == "::1");
    BOOST_TEST(s[2].interface.address.str() == "2001:db8::2");
    BOOST_TEST((s[3].interface.kind == K::nic));
    BOOST_TEST(s[3].interface.name == "eth0");
    BOOST_TEST((s[5].interface.kind == K::any));
    BOOST_TEST(s[5].interface.text == "any");
    BOOST_TEST(s[0].line == 3);
    BOOST_TEST(s[5].line == 8);
}

BOOST_AUTO_TEST_CASE(interface_star)
{
    auto c = valid("port 10025\n  interface *\n    server a\n");
    BOOST_TEST((c->ports[0].services[0].interface.kind == InterfaceSpec::Kind::any));
    BOOST_TEST(c->ports[0].services[0].interface.text == "*");
}

BOOST_AUTO_TEST_CASE(port_by_number_and_service_name)
{
    auto c = valid("port 1\n server a\nport 65535\n server a\n");
    BOOST_TEST(c->ports[0].port == 1);
    BOOST_TEST(c->ports[1].port == 65535);
    BOOST_TEST(c->ports[1].line == 3);
    if (servent* s = getservbyname("smtp", "tcp")) {
        auto named = valid("port smtp\n server a\n");
        BOOST_TEST(named->ports[0].port == ntohs(static_cast<std::uint16_t>(s->s_port)));
    }
}

BOOST_AUTO_TEST_CASE(ports_and_sections_in_file_order)
{
    auto c = valid("port 3\n interface 127.0.0.3\n server a\n interface 127.0.0.2\n server b\nport 2\n server c\n");
    BOOST_TEST_REQUIRE(c->ports.size() == 2u);
    BOOST_TEST(c->ports[0].port == 3);
    BOOST_TEST(c->ports[0].services[0].servers[0].host == "a");
    BOOST_TEST(c->ports[0].services[1].servers[0].host == "b");
    BOOST_TEST(c->ports[1].port == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_errors)

BOOST_AUTO_TEST_CASE(unknown_keyword_suggests_the_nearest)
{
    expect_error(service_head + "    timout 5\n", 4, 5, "unknown keyword 'timout' (did you mean 'timeout'?)");
    expect_error(service_head + "    redirectmode none\n", 4, 5, "did you mean 'redirect-mode'?");
    expect_error("sesion-dir /x\n" + service_head, 1, 1, "did you mean 'session-dir'?");
}

BOOST_AUTO_TEST_CASE(missing_argument)
{
    expect_error(service_head + "    timeout\n", 4, 5, "missing argument for 'timeout' (usage: timeout SECONDS)");
    expect_error(service_head + "    rotate 10.0.0.1\n", 4, 5, "missing arguments for 'rotate'");
    expect_error("port\n server a\n", 1, 1, "missing argument for 'port'");
    expect_error(service_head + "    exec\n", 4, 5, "missing argument for 'exec'");
}

BOOST_AUTO_TEST_CASE(extra_argument)
{
    expect_error("timeout 30 40\n" + service_head, 1, 12, "too many arguments for 'timeout'");
    expect_error(service_head + "  interface 127.0.0.1 127.0.0.2\n    server a\n", 4, 23,
                 "too many arguments for 'interface'");
}

BOOST_AUTO_TEST_CASE(numbers)
{
    expect_error(service_head + "    timeout soon\n", 4, 13, "\"soon\" is not a number of seconds");
    expect_error(service_head + "    timeout -1\n", 4, 13, "not a number");
    expect_error(service_head + "    timeout 31536001\n", 4, 13, "31536001 seconds is out of range (0-31536000)");
    expect_error(service_head + "    timeout 99999999999999999999999\n", 4, 13, "out of range");
    expect_error("max-sessions 0\n" + service_head, 1, 14, "max-sessions 0 is out of range (1-100000)");
    expect_error("max-sessions 100001\n" + service_head, 1, 14, "out of range (1-100000)");
}

BOOST_AUTO_TEST_CASE(ports)
{
    expect_error("port 0\n server a\n", 1, 6, "port 0 is out of range (1-65535)");
    expect_error("port 70000\n server a\n", 1, 6, "port 70000 is out of range");
    expect_error("port no-such-service-xyz\n server a\n", 1, 6,
                 "\"no-such-service-xyz\" is neither a port number nor a known TCP service");
    expect_error("port 25x\n server a\n", 1, 6, "\"25x\" is neither a port number nor a known TCP service");
}

BOOST_AUTO_TEST_CASE(duplicate_port)
{
    expect_error(service_head + "port 10025\n  server b\n", 4, 1, "port 10025 is already defined on line 1");
    if (servent* s = getservbyname("smtp", "tcp")) {
        const auto number = std::to_string(ntohs(static_cast<std::uint16_t>(s->s_port)));
        expect_error("port " + number + "\n server a\nport smtp\n server b\n", 3, 1, "already defined on line 1");
    }
}

BOOST_AUTO_TEST_CASE(malformed_addresses)
{
    expect_error(service_head + "    srcip 10.1.2.300\n", 4, 11, "\"10.1.2.300\" is not an IPv4 or IPv6 address");
    expect_error("port 10025\n  interface 2001:db8::1::5\n    server a\n", 2, 13, "not a valid IPv6 address");
    expect_error("port 10025\n  interface 10.1.2\n    server a\n", 2, 13, "not a valid IPv4 address");
    expect_error("port 10025\n  interface abcdefghijklmnop\n    server a\n", 2, 13, "network interface name");
    const std::string head = "port 10025\n  interface 127.0.0.1\n";
    expect_error(head + "    server [::1:25\n", 3, 12, "no \"]\" closing the IPv6 address in \"[::1:25\"");
    expect_error(head + "    server 127.0.0.1:99999\n", 3, 12, "port 99999 is out of range (1-65535)");
    expect_error(head + "    server a 10.0.0.256\n", 3, 14, "not a valid IPv4 address");
    expect_error(head + "    server 2001:db8::1\n", 3, 12, "an IPv6 address must be in brackets");
    expect_error(service_head + "    rotate 10.0.0.1 ::1\n", 4, 21, "same address family");
    expect_error(service_head + "    rotate 10.0.0.9 10.0.0.1\n", 4, 21, "ends before it starts");
    expect_error(service_head + "    rotate x 10.0.0.1\n", 4, 12, "\"x\" is not an IPv4 or IPv6 address");
}

BOOST_AUTO_TEST_CASE(acl_items)
{
    expect_error(service_head + "    acl +10.0.0.0/33\n", 4, 9, "prefix length /33 is out of range 0-32");
    expect_error(service_head + "    acl +127.0.0.1,10.0.0.256\n", 4, 20, "not a full IPv4 or IPv6 address");
    expect_error(service_head + "    acl 10.1/16\n", 4, 9, "not a full");
    expect_error(service_head + "    acl 10.0.0.0/255.0.255.0\n", 4, 9, "not a contiguous netmask");
    expect_error(service_head + "    acl ::1/129\n", 4, 9, "out of range 0-128");
    expect_error(service_head + "    acl \"10.0.0.0/8, 10.0.0.0/x\"\n", 4, 22, "not a prefix length or netmask");
}

BOOST_AUTO_TEST_CASE(acl_list_form)
{
    expect_error(service_head + "    acl 10.0.0.1 10.0.0.2\n", 4, 18, "',' missing before '10.0.0.2'");
    expect_error(service_head + "    acl 10.0.0.1,,10.0.0.2\n", 4, 18, "empty ACL item");
    expect_error(service_head + "    acl 10.0.0.1,\n", 4, 17, "the ACL list ends with ','");
    expect_error(service_head + "    acl \"\"\n", 4, 10, "empty ACL item");
}

BOOST_AUTO_TEST_CASE(acl_host_bits_warn)
{
    expect_warning(service_head + "    acl 10.0.0.1,10.1.2.3/8\n", 4, 18,
                   "host bits of '10.1.2.3/8' beyond the mask are ignored: it means 10.0.0.0/8");
}

BOOST_AUTO_TEST_CASE(global_only_inside_a_port)
{
    for (const std::string kw : {"standalone yes", "pidfile /p", "statdir /s", "session-dir /d", "session-mode keep",
                                 "exit-code any", "exit-handler /h", "max-sessions 5"})
        expect_error(service_head + "    " + kw + "\n", 4, 5,
                     "is a global setting: it belongs before the first 'port'");
    expect_error("port 10025\n  pidfile /p\n  server a\n", 2, 3, "'pidfile' is a global setting");
}

BOOST_AUTO_TEST_CASE(interface_before_any_port)
{
    expect_error("timeout 30\ninterface 127.0.0.1\n  server a\n" + service_head, 2, 1, "'interface' before any 'port'");
    // The orphan section's settings are not taken as global defaults: only one error.
    expect_error("interface 127.0.0.1\n  exec /bin/cat\n  server a\nport 1\n server b\n", 1, 1, "before any 'port'");
}

BOOST_AUTO_TEST_CASE(service_without_server_or_exec)
{
    expect_error("timeout 30\nport 10025\n  interface 127.0.0.1\n    timeout 5\n", 3, 3,
                 "no 'server' or 'exec' for this service");
    expect_error("port 10025\n  timeout 5\n", 1, 1, "no 'server' or 'exec'");
}

BOOST_AUTO_TEST_CASE(service_with_server_and_exec)
{
    expect_error("port 10025\n  interface 127.0.0.1\n    server 127.0.0.1:1\n    exec /bin/cat\n", 4, 5,
                 "'exec' and 'server' (line 3) are both set at this level");
    expect_error("exec /bin/cat\nserver a\nport 1\n", 2, 1, "both set at this level");
    expect_error("port 1\n server a\n exec /bin/cat\n interface *\n", 3, 2, "both set at this level");
}

BOOST_AUTO_TEST_CASE(programs_are_absolute_paths)
{
    expect_error("port 1\n exec ./handler\n", 2, 7, "program \"./handler\" is not an absolute path");
    expect_error(service_head + "    acp acp.sh\n", 4, 9, "not an absolute path");
    expect_error("session-dir /d\nsession-mode process\nexit-code any\nexit-handler bin/h\n" + service_head, 4, 14,
                 "program \"bin/h\" is not an absolute path");
}

BOOST_AUTO_TEST_CASE(keyword_choices)
{
    expect_error(service_head + "    redirect-mode sideways\n", 4, 19,
                 "\"sideways\" is not a redirect mode (none, accept, forward, forward-only, only)");
    expect_error("session-dir /tmp\nsession-mode discard\nexit-code any\nexit-handler /bin/cat\n" + service_head, 2, 14,
                 "\"discard\" is not a session mode (none, keep, process)");
    expect_error(service_head + "    proxy-protocol v3\n", 4, 20, "\"v3\" is not a PROXY protocol version (v1, v2)");
    expect_error(service_head + "    extended-info maybe\n", 4, 19, "expected yes or no, not \"maybe\"");
    expect_error("standalone Yes\n" + service_head, 1, 12, "expected yes or no, not");
    expect_error(service_head + "    accept-proxy 1\n", 4, 18, "expected yes or no, not");
}

BOOST_AUTO_TEST_CASE(exit_codes)
{
    expect_error("session-dir /tmp\nsession-mode keep\nexit-code access,fatal\n" + service_head, 3, 18,
                 "unknown exit code \"fatal\"");
    expect_error("session-dir /tmp\nsession-mode keep\nexit-code access,,ok\n" + service_head, 3, 18,
                 "empty exit code item");
}

BOOST_AUTO_TEST_CASE(partial_session_set_points_at_the_first)
{
    expect_error("timeout 5\nsession-dir /tmp\nsession-mode keep\n" + service_head, 2, 1,
                 "incomplete session handling: 'exit-code' missing");
    expect_error("exit-code any\nsession-dir /tmp\n" + service_head, 1, 1, "'session-mode' missing");
    expect_error("session-mode process\nsession-dir /tmp\nexit-code any\n" + service_head, 1, 1,
                 "'exit-handler' missing");
    expect_error("exit-handler /bin/cat\n" + service_head, 1, 1,
                 "'session-dir', 'session-mode' and 'exit-code' missing");
}

BOOST_AUTO_TEST_CASE(session_set_warnings)
{
    expect_warning("session-dir /tmp\nsession-mode keep\nexit-code any\nexit-handler /bin/cat\n" + service_head, 4, 1,
                   "only run with 'session-mode process'");
    expect_warning("session-dir /tmp\nsession-mode none\n" + service_head, 1, 1, "session handling is off");
}

BOOST_AUTO_TEST_CASE(unknown_user_and_group)
{
    expect_error(service_head + "    user no-such-user-xyz\n", 4, 10, "unknown user \"no-such-user-xyz\"");
    expect_error(service_head + "    user root.no-such-group-xyz\n", 4, 10, "unknown group \"no-such-group-xyz\"");
    expect_error(service_head + "    user root.\n", 4, 10, "missing group name");
}

// A user is looked up once per file; every line that names it still gets
// its value, or its own error.
BOOST_AUTO_TEST_CASE(a_user_named_twice)
{
    auto c = valid("port 10025\n  server 127.0.0.1:1\n  interface 127.0.0.1\n    user root.0\n"
                   "  interface 127.0.0.2\n    user root.0\n");
    for (const auto& s : c->ports[0].services) {
        BOOST_TEST(s.user.uid.value() == 0u);
        BOOST_TEST(s.user.gid.value() == 0u);
    }
    auto r = load("port 10025\n  server 127.0.0.1:1\n  interface 127.0.0.1\n    user no-such-user-xyz\n"
                  "  interface 127.0.0.2\n    user no-such-user-xyz\n");
    std::vector<int> lines;
    for (const auto& d : r.diagnostics.items()) {
        lines.push_back(d.line);
        BOOST_TEST(d.column == 10);
        BOOST_TEST(d.message == "unknown user \"no-such-user-xyz\"");
    }
    BOOST_TEST(lines == (std::vector<int>{4, 6}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(names_and_paths)
{
    expect_error(service_head + "    logname a/b\n", 4, 13, "\"a/b\" is not a usable name");
    expect_error(service_head + "    logname \"a b\"\n", 4, 14, "\"a b\" is not a usable name");
    expect_error(service_head + "    setenv 1X_\n", 4, 12, "is not a usable variable prefix");
    expect_error(service_head + "    setenv A-B\n", 4, 12, "is not a usable variable prefix");
    expect_error("pidfile \"\"\n" + service_head, 1, 9, "empty pidfile path");
    expect_error("port 10025\n    exec \"\"\n", 2, 10, "empty program path");
    expect_error(service_head + "    writefile \"\"\n", 4, 15, "empty capture basename");
}

BOOST_AUTO_TEST_CASE(setting_twice_at_one_level)
{
    expect_error(service_head + "    timeout 5\n    timeout 6\n", 5, 5,
                 "'timeout' is already set at this level on line 4");
    expect_error(service_head + "    writefile /a\n    debug /b\n", 5, 5,
                 "'debug' conflicts with 'writefile' on line 4");
    expect_error(service_head + "    server b\n", 4, 5, "'server' is already set");
}

BOOST_AUTO_TEST_CASE(all_errors_reported_in_order)
{
    auto r = load("# several errors\n"
                  "timeout 30\n"
                  "redirect-mode sideways\n"
                  "port 10025\n"
                  "  interface 127.0.0.1\n"
                  "    server 127.0.0.1:10026\n"
                  "    timout 5\n"
                  "  interface 127.0.0.2\n"
                  "    server 127.0.0.1:10027\n"
                  "    acl 10.0.0.0/33\n");
    std::vector<int> lines;
    for (const auto& d : r.diagnostics.items())
        lines.push_back(d.line);
    BOOST_TEST(lines == (std::vector<int>{3, 7, 10}), boost::test_tools::per_element());
    BOOST_TEST(r.diagnostics.error_count() == 3u);
    BOOST_TEST(!r.config);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_shadowed_sections)

BOOST_AUTO_TEST_CASE(wildcard_shadows_later_sections)
{
    expect_warning("port 10025\n  interface *\n    server a\n  interface 127.0.0.1\n    server b\n", 4, 13,
                   "this section can never match: 'interface *' on line 2 takes every connection first");
    expect_warning("port 10025\n  server a\n  interface any\n  interface lo\n", 4, 13, "'interface any' on line 3");
}

BOOST_AUTO_TEST_CASE(same_address_or_nic_twice)
{
    expect_warning("port 10025\n  server a\n  interface 127.0.0.1\n  interface lo\n  interface 127.0.0.1\n", 5, 13,
                   "'interface 127.0.0.1' on line 3 already serves the same interface");
    expect_warning("port 10025\n  server a\n  interface eth0\n  interface eth0\n", 4, 13, "already serves");
    expect_warning("port 10025\n  server a\n  interface ::1\n  interface [::1]\n", 4, 13, "already serves");
}

BOOST_AUTO_TEST_CASE(distinct_sections_do_not_warn)
{
    auto r = load("port 10025\n  server a\n  interface 127.0.0.1\n  interface lo\n  interface 127.0.0.2\n"
                  "  interface ::1\n  interface *\nport 10026\n  server a\n  interface *\n");
    BOOST_TEST(r.diagnostics.items().empty(), dump(r.diagnostics));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_suggest)

BOOST_AUTO_TEST_CASE(edit_distance)
{
    BOOST_TEST(config::edit_distance("", "") == 0u);
    BOOST_TEST(config::edit_distance("timout", "timeout") == 1u);
    BOOST_TEST(config::edit_distance("kitten", "sitting") == 3u);
    BOOST_TEST(config::edit_distance("abc", "") == 3u);
}

BOOST_AUTO_TEST_CASE(nearest)
{
    const std::string_view words[] = {"server", "srcip", "setenv"};
    BOOST_TEST(config::nearest("sever", words) == "server");
    BOOST_TEST(config::nearest("srcpi", words) == "srcip");
    BOOST_TEST(config::nearest("x", {}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_files)

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "tcpproxy-config-XXXXXX").string();
        BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const
    {
        std::ofstream(path / name, std::ios::binary) << text;
        return (path / name).string();
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(missing_file_is_one_error_without_position)
{
    TempDir dir;
    const auto file = (dir.path / "absent.conf").string();
    auto r = load_config_file(file);
    BOOST_TEST(!r.config);
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    const auto& d = r.diagnostics.items()[0];
    BOOST_TEST(d.file == file);
    BOOST_TEST(d.line == 0);
    BOOST_TEST(d.message.find("No such file or directory") != std::string::npos, d.message);
}

BOOST_AUTO_TEST_CASE(directory_is_an_error)
{
    TempDir dir;
    auto r = load_config_file(dir.path.string());
    BOOST_TEST(!r.config);
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    BOOST_TEST(r.diagnostics.items()[0].message.find("Is a directory") != std::string::npos,
               r.diagnostics.items()[0].message);
}

BOOST_AUTO_TEST_CASE(file_name_in_diagnostics_is_as_given)
{
    TempDir dir;
    const auto file = dir.write("bad.conf", "port 1\n server a\n timout 1\n");
    auto r = load_config_file(file);
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    BOOST_TEST(r.diagnostics.items()[0].file == file);
    BOOST_TEST(r.diagnostics.items()[0].line == 3);
}

BOOST_AUTO_TEST_CASE(check_config_valid_prints_a_summary)
{
    TempDir dir;
    const auto file = dir.write("ok.conf", "port 1\n server a\n interface *\n interface lo\nport 2\n exec /bin/cat\n");
    std::ostringstream out, err;
    BOOST_TEST(check_config(file, out, err, false) == 0);
    BOOST_TEST(out.str() == file + ": configuration OK: 2 ports, 3 sections (1 warning)\n");
    BOOST_TEST(err.str().find(file + ":4:12: warning: ") == 0u, err.str());
}

BOOST_AUTO_TEST_CASE(check_config_invalid_prints_diagnostics_only)
{
    TempDir dir;
    const auto file = dir.write("bad.conf", "port 1\n server a\n    timout 1\n");
    std::ostringstream out, err;
    BOOST_TEST(check_config(file, out, err, false) == 1);
    BOOST_TEST(out.str().empty());
    BOOST_TEST(err.str() == file + ":3:5: error: unknown keyword 'timout' (did you mean 'timeout'?)\n"
                                   "        timout 1\n"
                                   "        ^\n");
}

BOOST_AUTO_TEST_CASE(check_config_colour_only_when_asked)
{
    TempDir dir;
    const auto file = dir.write("bad.conf", "port 1\n server a\n timout 1\n");
    std::ostringstream out, plain, coloured;
    check_config(file, out, plain, false);
    check_config(file, out, coloured, true);
    BOOST_TEST(plain.str().find('\033') == std::string::npos);
    BOOST_TEST(coloured.str().find('\033') != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_no_follow_up_errors)

// One mistake, one diagnostic: a setting that could not be read is not
// reported missing as well.
BOOST_AUTO_TEST_CASE(unreadable_server_is_not_also_missing)
{
    expect_error("port 1\n  sever a\n", 2, 3, "did you mean 'server'");
    expect_error("port 1\n  server\n", 2, 3, "missing argument");
    expect_error("port 1\n  interface *\n    server \"a\n", 3, 12, "unterminated");
    expect_error("server \"a\nport 1\n", 1, 8, "unterminated");
}

BOOST_AUTO_TEST_CASE(unknown_session_mode_is_not_also_partial)
{
    expect_error("session-dir /tmp\nsession-mode discard\n" + service_head, 2, 14, "is not a session mode");
}

BOOST_AUTO_TEST_SUITE_END()
