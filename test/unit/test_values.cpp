#include "tcpproxy/config/values.hpp"
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <iterator>

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
    BOOST_TEST((parse_interface("*")->kind == InterfaceSpec::Kind::any));
    BOOST_TEST((parse_interface("any")->kind == InterfaceSpec::Kind::any));
    auto p = parse_interface("192.0.2.1");
    BOOST_TEST((p->kind == InterfaceSpec::Kind::address));
    p = parse_interface("::1");
    BOOST_TEST((p->kind == InterfaceSpec::Kind::address));
    BOOST_TEST(!p->address.is_v4());
    BOOST_TEST((parse_interface("[::1]")->kind == InterfaceSpec::Kind::address));
    p = parse_interface("ppp0");
    BOOST_TEST((p->kind == InterfaceSpec::Kind::nic));
    BOOST_TEST(p->name == "ppp0");
    BOOST_TEST(!parse_interface("192.0.2").has_value()); // starts with a digit: must be a dotted quad
    BOOST_TEST(!parse_interface("1eth").has_value());
    BOOST_TEST(!parse_interface("a-very-long-interface-name").has_value());
    BOOST_TEST(!parse_interface("eth/0").has_value());
    BOOST_TEST(!parse_interface("fe80::zz").has_value());
}

BOOST_AUTO_TEST_CASE(upstreams)
{
    auto u = parse_upstream("mail.example.org:25");
    BOOST_TEST(u->host == "mail.example.org");
    BOOST_TEST(u->port.value() == 25);
    u = parse_upstream("192.0.2.5");
    BOOST_TEST(!u->port);
    u = parse_upstream("[2001:db8::1]:587");
    BOOST_TEST(u->host == "2001:db8::1");
    BOOST_TEST(u->port.value() == 587);
    BOOST_TEST(parse_upstream("[::1]").has_value());
    for (const char* bad :
         {"2001:db8::1:25", "[::1", "[::1]x", "host:0", "host:99999", ":25", "300.1.1.1:25", "[zz::]:1", "host:"})
        BOOST_TEST(!parse_upstream(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(identities)
{
    auto i = parse_identity("root");
    BOOST_TEST_REQUIRE(i.has_value());
    BOOST_TEST(*i->uid == 0u);
    BOOST_TEST(*i->gid == 0u);
    i = parse_identity("1234");
    BOOST_TEST(*i->uid == 1234u);
    BOOST_TEST(!i->gid);
    i = parse_identity("root.0");
    BOOST_TEST(*i->gid == 0u);
    i = parse_identity("root:root");
    BOOST_TEST(*i->gid == 0u);
    i = parse_identity(".root");
    BOOST_TEST(!i->uid);
    BOOST_TEST(*i->gid == 0u);
    BOOST_TEST(!parse_identity("no-such-user-xyz").has_value());
    BOOST_TEST(!parse_identity("root.no-such-group-xyz").has_value());
    BOOST_TEST(!parse_identity("root.").has_value());
    BOOST_TEST(!parse_identity("").has_value());
}

BOOST_AUTO_TEST_CASE(statuses)
{
    BOOST_TEST(status_name(Status::proxy) == "PROXY");
    BOOST_TEST(status_code(Status::client) == 6);
}

// --- the vocabulary shared by the config file and the command line --------

namespace {

template <typename T>
std::string error_of(const Result<T>& r)
{
    BOOST_TEST_REQUIRE(!r.has_value());
    return r.error().message;
}

// The one error of `directive` in a minimal valid file.
std::string config_error(const std::string& directive)
{
    auto r = parse_config(directive + "\nport 10025\n  server 127.0.0.1:10026\n", "t.conf");
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    return r.diagnostics.items()[0].message;
}

// The error of a command line, without "tcpproxy: option -X: ".
std::string option_error(const char* option, const char* value)
{
    const char* argv[] = {"tcpproxy", option, value, nullptr};
    auto r = parse_command_line(3, argv);
    BOOST_TEST_REQUIRE(!r.has_value());
    const std::string head = std::string("tcpproxy: option ") + option + ": ";
    BOOST_TEST_REQUIRE(r.error().message.rfind(head, 0) == 0u);
    return r.error().message.substr(head.size());
}

} // namespace

BOOST_AUTO_TEST_CASE(seconds)
{
    BOOST_TEST(grammar::seconds("0").value() == 0u);
    BOOST_TEST(grammar::seconds("31536000").value() == 31536000u);
    BOOST_TEST(error_of(grammar::seconds("31536001")) == "31536001 seconds is out of range (0-31536000)");
    BOOST_TEST(error_of(grammar::seconds("99999999999999999999")) ==
               "99999999999999999999 seconds is out of range (0-31536000)");
    for (const char* bad : {"", "5s", "-5", "+5", " 5", "0x10", "soon"})
        BOOST_TEST(error_of(grammar::seconds(bad)).find("is not a number of seconds") != std::string::npos, bad);
}

BOOST_AUTO_TEST_CASE(max_sessions)
{
    BOOST_TEST(grammar::max_sessions("1").value() == 1u);
    BOOST_TEST(grammar::max_sessions("100000").value() == 100000u);
    BOOST_TEST(error_of(grammar::max_sessions("0")) == "max-sessions 0 is out of range (1-100000)");
    BOOST_TEST(error_of(grammar::max_sessions("many")) == "\"many\" is not a number (max-sessions: 1-100000)");
}

BOOST_AUTO_TEST_CASE(words_from_a_table)
{
    BOOST_TEST(grammar::yes_no("yes").value());
    BOOST_TEST(!grammar::yes_no("no").value());
    BOOST_TEST(error_of(grammar::yes_no("Yes")) == "expected yes or no, not \"Yes\"");
    BOOST_TEST(error_of(grammar::yes_no("yess")) == "expected yes or no, not \"yess\"");
    BOOST_TEST((grammar::redirect_mode("none").value() == RedirectMode::none));
    BOOST_TEST((grammar::redirect_mode("accept").value() == RedirectMode::accept));
    BOOST_TEST((grammar::redirect_mode("forward").value() == RedirectMode::forward));
    BOOST_TEST((grammar::redirect_mode("forward-only").value() == RedirectMode::forward_only));
    BOOST_TEST((grammar::redirect_mode("only").value() == RedirectMode::forward_only));
    BOOST_TEST(error_of(grammar::redirect_mode("forward-")) ==
               "\"forward-\" is not a redirect mode (none, accept, forward, forward-only, only)");
    BOOST_TEST((grammar::session_mode("none").value() == SessionMode::none));
    BOOST_TEST((grammar::session_mode("keep").value() == SessionMode::keep));
    BOOST_TEST((grammar::session_mode("process").value() == SessionMode::process));
    BOOST_TEST(error_of(grammar::session_mode("")) == "\"\" is not a session mode (none, keep, process)");
    BOOST_TEST(grammar::proxy_protocol("v1").value() == 1);
    BOOST_TEST(grammar::proxy_protocol("v2").value() == 2);
    BOOST_TEST(error_of(grammar::proxy_protocol("v3")) == "\"v3\" is not a PROXY protocol version (v1, v2)");
}

BOOST_AUTO_TEST_CASE(exit_codes)
{
    BOOST_TEST(grammar::exit_code("access").value() == status_bit(Status::access));
    BOOST_TEST(grammar::exit_code("Timeout").value() == status_bit(Status::timeout));
    BOOST_TEST(grammar::exit_code("PROXY").value() == status_bit(Status::proxy));
    BOOST_TEST(grammar::exit_code("any").value() == all_statuses);
    BOOST_TEST(grammar::exit_code("ANY").value() == all_statuses);
    BOOST_TEST(error_of(grammar::exit_code("fatal")).rfind("unknown exit code \"fatal\" (expected ok, ", 0) == 0u);
    BOOST_TEST(!grammar::exit_code("oks"));
}

BOOST_AUTO_TEST_CASE(names)
{
    BOOST_TEST(grammar::var_prefix("PROXY_").value() == "PROXY_");
    BOOST_TEST(grammar::var_prefix("_a1").value() == "_a1");
    for (const char* bad : {"", "1X", "A=B", "A-B", "\xc3\xa4"})
        BOOST_TEST(error_of(grammar::var_prefix(bad)).find("is not a usable variable prefix") != std::string::npos,
                   bad);
    BOOST_TEST(grammar::logname("tcpproxy").value() == "tcpproxy");
    BOOST_TEST(grammar::logname("my.proxy-1").value() == "my.proxy-1");
    for (const char* bad : {"", "a b", "a/b", "a\tb", "a\x7f", "a\nb"})
        BOOST_TEST(error_of(grammar::logname(bad)).find("is not a usable name") != std::string::npos, bad);
    BOOST_TEST(error_of(grammar::logname("a\nb")).rfind("\"a\\x0ab\"", 0) == 0u, "control characters are escaped");
}

BOOST_AUTO_TEST_CASE(addresses_and_programs)
{
    BOOST_TEST(grammar::ip_address("192.0.2.1")->str() == "192.0.2.1");
    BOOST_TEST(grammar::ip_address("2001:db8::1")->str() == "2001:db8::1");
    BOOST_TEST(grammar::ip_address("[2001:db8::1]")->str() == "2001:db8::1");
    for (const char* bad : {"", "10.1", "[10.0.0.1]", "[::1", "::1]", "host.example", "10.0.0.1:25", "1.2.3.4 "})
        BOOST_TEST(error_of(grammar::ip_address(bad)).find("is not an IPv4 or IPv6 address") != std::string::npos, bad);
    BOOST_TEST(grammar::program("/bin/h").value() == "/bin/h");
    BOOST_TEST(error_of(grammar::program("bin/h")) == "program \"bin/h\" is not an absolute path");
    BOOST_TEST(error_of(grammar::program("")) == "empty program path");
    BOOST_TEST(grammar::is_program("/bin/echo"));
    BOOST_TEST(grammar::is_program("./handler"));
    BOOST_TEST(!grammar::is_program("127.0.0.1:25"));
    BOOST_TEST(!grammar::is_program(""));
}

BOOST_AUTO_TEST_CASE(lists)
{
    const auto items = grammar::list_items("a, b,,\tc ,");
    BOOST_TEST_REQUIRE(items.size() == 5u);
    BOOST_TEST(items[0].text == "a");
    BOOST_TEST(items[0].offset == 0u);
    BOOST_TEST(items[1].text == "b");
    BOOST_TEST(items[1].offset == 3u);
    BOOST_TEST(items[2].text.empty());
    BOOST_TEST(items[2].offset == 5u);
    BOOST_TEST(items[3].text == "c");
    BOOST_TEST(items[3].offset == 7u);
    BOOST_TEST(items[4].text.empty());
    BOOST_TEST(grammar::list_items("").size() == 1u);
}

BOOST_AUTO_TEST_CASE(host_and_port)
{
    auto hp = grammar::host_port("mail.example.org:smtp");
    BOOST_TEST_REQUIRE(hp.has_value());
    BOOST_TEST(hp->host == "mail.example.org");
    BOOST_TEST(!hp->bracketed);
    BOOST_TEST(hp->port.value() == "smtp");
    hp = grammar::host_port("[2001:db8::1]:25");
    BOOST_TEST_REQUIRE(hp.has_value());
    BOOST_TEST(hp->host == "2001:db8::1");
    BOOST_TEST(hp->bracketed);
    BOOST_TEST(hp->port.value() == "25");
    hp = grammar::host_port("[::1]");
    BOOST_TEST_REQUIRE(hp.has_value());
    BOOST_TEST(!hp->port);
    hp = grammar::host_port("9000");
    BOOST_TEST_REQUIRE(hp.has_value());
    BOOST_TEST(hp->host == "9000");
    BOOST_TEST(!hp->port);
    BOOST_TEST(error_of(grammar::host_port("[::1:25")) == "no \"]\" closing the IPv6 address in \"[::1:25\"");
    BOOST_TEST(error_of(grammar::host_port("[::1]x")) == "expected :PORT after the IPv6 address in \"[::1]x\"");
    BOOST_TEST(error_of(grammar::host_port("[eth0]:80")) == "\"[eth0]\" is not an IPv6 address");
    BOOST_TEST(error_of(grammar::host_port("::1:80")) ==
               "an IPv6 address must be in brackets, as in [::1]:8080; got \"::1:80\"");
    // `server` and -b split alike.
    BOOST_TEST(error_of(parse_upstream("2001:db8::1")) == error_of(grammar::host_port("2001:db8::1")));
}

BOOST_AUTO_TEST_CASE(acl_item_errors)
{
    BOOST_TEST(error_of(grammar::acl_item("10.1/16")) == "\"10.1\" is not a full IPv4 or IPv6 address");
    BOOST_TEST(error_of(grammar::acl_item("10.0.0.0/33")) == "prefix length /33 is out of range 0-32");
    BOOST_TEST(error_of(grammar::acl_item("10.0.0.0/255.0.255.0")) == "\"255.0.255.0\" is not a contiguous netmask");
    BOOST_TEST(error_of(grammar::acl_item("10.0.0.0/x")) == "\"x\" is not a prefix length or netmask");
    BOOST_TEST(error_of(grammar::acl_item("::1/255.0.0.0")) == "\"255.0.0.0\" is not a prefix length or netmask");
    const auto e = grammar::acl_item("-10.1.2.3/255.255.0.0");
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(!e->item.allow);
    BOOST_TEST(e->item.prefix == 16u);
    BOOST_TEST(e->host_bits);
}

// The same value is accepted and refused alike by both surfaces, in the same words.
BOOST_AUTO_TEST_CASE(config_and_command_line_accept_the_same_values)
{
    auto r = parse_config("port 10025\n  server 127.0.0.1:10026\n  srcip [::1]\n  timeout 0\n"
                          "  redirect-mode only\n  setenv _X1\n  logname my.log\n  acl 10.0.0.0/8, -::1\n",
                          "t.conf");
    BOOST_TEST_REQUIRE(static_cast<bool>(r.config));
    const Service& file = r.config->ports[0].services[0];
    const char* argv[] = {
        "tcpproxy",         "-q",   "[::1]", "-t", "0", "-r", "only", "-v", "_X1", "-l", "my.log", "-A",
        "10.0.0.0/8, -::1", nullptr};
    auto cl = parse_command_line(13, argv);
    BOOST_TEST_REQUIRE(cl.has_value());
    BOOST_TEST((file.srcip == cl->srcip));
    BOOST_TEST(file.timeout == cl->timeout.value());
    BOOST_TEST((file.redirect == cl->redirect.value()));
    BOOST_TEST(file.var_prefix == cl->var_prefix.value());
    BOOST_TEST(file.logname == cl->logname.value());
    BOOST_TEST((file.acl == cl->acl));
}

BOOST_AUTO_TEST_CASE(config_and_command_line_share_each_rule)
{
    BOOST_TEST(config_error("timeout soon") == option_error("-t", "soon"));
    BOOST_TEST(config_error("timeout 31536001") == option_error("-t", "31536001"));
    BOOST_TEST(config_error("redirect-mode sideways") == option_error("-r", "sideways"));
    BOOST_TEST(config_error("setenv 1X") == option_error("-v", "1X"));
    BOOST_TEST(config_error("logname a/b") == option_error("-l", "a/b"));
    BOOST_TEST(config_error("srcip 10.1") == option_error("-q", "10.1"));
    BOOST_TEST("ACL item \"10.1/16\": " + config_error("acl 10.1/16") == option_error("-A", "10.1/16"));
    BOOST_TEST(config_error("session-mode discard").find(option_error("-E", "discard,/d")) == 0u);
}

BOOST_AUTO_TEST_CASE(relative_paths_resolved_against_their_base)
{
    BOOST_TEST(resolve_path("stat", "/srv/h") == "/srv/h/stat");
    BOOST_TEST(resolve_path("./handler.sh", "/srv/h") == "/srv/h/handler.sh");
    BOOST_TEST(resolve_path("../cap/x", "/srv/h") == "/srv/cap/x");
    BOOST_TEST(resolve_path("/abs/x", "/srv/h") == "/abs/x");
    BOOST_TEST(resolve_path("", "/srv/h").empty());
}

BOOST_AUTO_TEST_CASE(config_file_paths_are_relative_to_its_directory)
{
    const auto loaded = parse_config("pidfile run/p.pid\nstatdir stat\n"
                                     "port 8000\n  interface 127.0.0.1\n    server 127.0.0.1:25\n"
                                     "    writefile cap/traffic\n",
                                     "/etc/tcpproxy.d/t.conf");
    BOOST_REQUIRE(loaded.config);
    BOOST_TEST(loaded.config->pidfile == "/etc/tcpproxy.d/run/p.pid");
    BOOST_TEST(loaded.config->statdir == "/etc/tcpproxy.d/stat");
    BOOST_TEST(loaded.config->ports.at(0).services.at(0).writefile == "/etc/tcpproxy.d/cap/traffic");
}

BOOST_AUTO_TEST_CASE(command_line_paths_are_relative_to_the_start_directory)
{
    const char* argv[] = {"tcpproxy", "-o",    "stat", "-pp",  "p.pid",        "-w", "cap/x",
                          "-a",       "./acp", "-b",   "8000", "./handler.sh", "arg"};
    auto cl = parse_command_line(static_cast<int>(std::size(argv)), argv);
    BOOST_REQUIRE(cl);
    const auto abs = with_absolute_paths(*cl);
    const std::string cwd = std::filesystem::current_path().string();
    BOOST_TEST(*abs.statdir == cwd + "/stat");
    BOOST_TEST(*abs.pidfile == cwd + "/p.pid");
    BOOST_TEST(*abs.writefile == cwd + "/cap/x");
    BOOST_TEST(*abs.acp == cwd + "/acp");
    BOOST_TEST(*abs.server == cwd + "/handler.sh");
    BOOST_TEST(abs.server_args.at(0) == "arg"); // arguments are not paths
}

BOOST_AUTO_TEST_CASE(missing_and_unexecutable_programs_are_problems)
{
    Config c;
    PortConfig port;
    Service s;
    s.exec = {"/nonexistent/handler"};
    s.acp = "/etc/passwd";
    s.line = 7;
    port.services.push_back(s);
    Service fine;
    fine.exec = {"/bin/sh"};
    port.services.push_back(fine);
    c.ports.push_back(port);
    const auto problems = program_problems(c);
    BOOST_REQUIRE_EQUAL(problems.size(), 2u);
    BOOST_TEST(problems[0].find("/nonexistent/handler") != std::string::npos);
    BOOST_TEST(problems[0].find("line 7") != std::string::npos);
    BOOST_TEST(problems[1].find("not executable") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
