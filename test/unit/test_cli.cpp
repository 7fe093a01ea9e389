// parse_command_line: every option of reference §2, getopt-style grouping,
// operands, and every command-line error (one line, "tcpproxy: " first).
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using namespace tcpproxy;

namespace {

Result<CommandLine> parse(std::initializer_list<const char*> args)
{
    std::vector<const char*> argv{"tcpproxy"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

// The parsed command line, failing the test (with the error) when there is none.
CommandLine ok(std::initializer_list<const char*> args)
{
    auto r = parse(args);
    BOOST_TEST_REQUIRE(r.has_value(), "unexpected error: " << (r ? std::string() : r.error().message));
    return *r;
}

std::string error_of(std::initializer_list<const char*> args)
{
    auto r = parse(args);
    BOOST_TEST_REQUIRE(!r.has_value());
    const std::string& error = r.error().message;
    BOOST_TEST(error.rfind("tcpproxy: ", 0) == 0, "error does not start with the program name: " << error);
    BOOST_TEST(error.find('\n') == std::string::npos, "error is not one line: " << error);
    return error;
}

AclItem item(const char* text) { return grammar::acl_item(text)->item; }

} // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(no_arguments_is_config_mode_with_defaults)
{
    const CommandLine cl = ok({});
    BOOST_TEST((cl.action == CommandLine::Action::run));
    BOOST_TEST(cl.config_file == "/etc/tcpproxy.conf");
    BOOST_TEST(!cl.config_file_given);
    BOOST_TEST(!cl.bind);
    BOOST_TEST(!cl.server);
    BOOST_TEST(!cl.pidfile);
    BOOST_TEST(!cl.timeout);
    BOOST_TEST(!cl.standalone);
    BOOST_TEST(!cl.debug);
    BOOST_TEST(cl.acl.empty());
}

BOOST_AUTO_TEST_CASE(option_a) { BOOST_TEST(ok({"-a", "/usr/local/bin/acp"}).acp.value() == "/usr/local/bin/acp"); }

BOOST_AUTO_TEST_CASE(option_b_forms)
{
    for (const char* bind : {"8080", "127.0.0.1:8080", "[::1]:8080", "lo:8080", "*:8080", "any:8080", "smtp",
                             "127.0.0.1:smtp", "0.0.0.0:65535", "[::]:1"}) {
        const CommandLine cl = ok({"-b", bind, "127.0.0.1:25"});
        BOOST_TEST(cl.bind.value() == bind);
        BOOST_TEST(cl.standalone, "-b implies -s");
        BOOST_TEST(cl.server.value() == "127.0.0.1:25");
    }
}

BOOST_AUTO_TEST_CASE(flags_d_e_n_s_x)
{
    BOOST_TEST(ok({"-d"}).debug);
    BOOST_TEST(ok({"-e"}).empty_env);
    BOOST_TEST(ok({"-n"}).no_resolve);
    BOOST_TEST(ok({"-s"}).standalone);
    BOOST_TEST(ok({"-x"}).extended_info);
}

BOOST_AUTO_TEST_CASE(option_f)
{
    const CommandLine cl = ok({"-f", "/tmp/my.conf"});
    BOOST_TEST(cl.config_file == "/tmp/my.conf");
    BOOST_TEST(cl.config_file_given);
}

BOOST_AUTO_TEST_CASE(options_l_o_u_v_w_O)
{
    const CommandLine cl = ok({"-l", "smtp-proxy", "-o", "/run/st", "-u", "nobody.nogroup", "-v", "MY_", "-w",
                               "/tmp/cap", "-O", "/tmp/sess"});
    BOOST_TEST(cl.logname.value() == "smtp-proxy");
    BOOST_TEST(cl.statdir.value() == "/run/st");
    BOOST_TEST(cl.user.value() == "nobody.nogroup");
    BOOST_TEST(cl.var_prefix.value() == "MY_");
    BOOST_TEST(cl.writefile.value() == "/tmp/cap");
    BOOST_TEST(cl.session_dir.value() == "/tmp/sess");
    BOOST_TEST(ok({"-u", "nobody:nogroup"}).user.value() == "nobody:nogroup");
    BOOST_TEST(ok({"-u", "4242"}).user.value() == "4242");
}

BOOST_AUTO_TEST_CASE(option_p_default_pidfile)
{
    BOOST_TEST(ok({"-p"}).pidfile.value() == "/var/run/tcpproxy.pid");
    BOOST_TEST(ok({"-d", "-p", "-n"}).pidfile.value() == "/var/run/tcpproxy.pid");
}

BOOST_AUTO_TEST_CASE(option_pp_and_p_p_name_the_pidfile)
{
    BOOST_TEST(ok({"-pp", "/tmp/x.pid"}).pidfile.value() == "/tmp/x.pid");
    BOOST_TEST(ok({"-p", "-p", "/tmp/x.pid"}).pidfile.value() == "/tmp/x.pid");
    BOOST_TEST(ok({"-p", "-d", "-p", "/tmp/x.pid"}).pidfile.value() == "/tmp/x.pid");
    BOOST_TEST(ok({"-dpp", "/tmp/x.pid"}).pidfile.value() == "/tmp/x.pid");
    BOOST_TEST(ok({"-pp/tmp/x.pid"}).pidfile.value() == "/tmp/x.pid");
    BOOST_TEST(ok({"-pp", "/tmp/a.pid", "-p", "/tmp/b.pid"}).pidfile.value() == "/tmp/b.pid");
    // With a pidfile named, the words after it are still options and operands.
    const CommandLine cl = ok({"-pp", "/tmp/x.pid", "-b", "9000", "127.0.0.1:25"});
    BOOST_TEST(cl.server.value() == "127.0.0.1:25");
}

BOOST_AUTO_TEST_CASE(option_q)
{
    BOOST_TEST(ok({"-q", "127.0.0.2"}).srcip.value().str() == "127.0.0.2");
    BOOST_TEST(ok({"-q", "::1"}).srcip.value().str() == "::1");
    BOOST_TEST(ok({"-q", "[2001:db8::5]"}).srcip.value().str() == "2001:db8::5");
}

BOOST_AUTO_TEST_CASE(option_r_every_mode)
{
    BOOST_TEST((ok({"-r", "none"}).redirect.value() == RedirectMode::none));
    BOOST_TEST((ok({"-r", "accept"}).redirect.value() == RedirectMode::accept));
    BOOST_TEST((ok({"-r", "forward"}).redirect.value() == RedirectMode::forward));
    BOOST_TEST((ok({"-r", "forward-only"}).redirect.value() == RedirectMode::forward_only));
    BOOST_TEST((ok({"-r", "only"}).redirect.value() == RedirectMode::forward_only));
}

BOOST_AUTO_TEST_CASE(option_t_range)
{
    BOOST_TEST(ok({"-t", "0"}).timeout.value() == 0u);
    BOOST_TEST(ok({"-t", "30"}).timeout.value() == 30u);
    BOOST_TEST(ok({"-t", "31536000"}).timeout.value() == 31536000u);
    BOOST_TEST(ok({"-t", "007"}).timeout.value() == 7u);
}

BOOST_AUTO_TEST_CASE(option_A_items_add_up)
{
    const CommandLine cl = ok({"-A", "+127.0.0.1, -10.0.0.0/8,192.168.0.0/255.255.0.0", "-A", "::1/128"});
    const Acl expect{item("+127.0.0.1"), item("-10.0.0.0/8"), item("192.168.0.0/16"), item("::1/128")};
    BOOST_TEST((cl.acl == expect));
}

BOOST_AUTO_TEST_CASE(option_E_modes)
{
    CommandLine cl = ok({"-E", "process,/tmp/sess,/usr/local/bin/handler"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::process));
    BOOST_TEST(cl.session_dir.value() == "/tmp/sess");
    BOOST_TEST((cl.exit_handler.value() == std::vector<std::string>{"/usr/local/bin/handler"}));

    cl = ok({"-E", "keep,/tmp/sess"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::keep));
    BOOST_TEST(cl.session_dir.value() == "/tmp/sess");
    BOOST_TEST(!cl.exit_handler);
    BOOST_TEST(ok({"-E", "keep,/tmp/sess,"}).session_dir.value() == "/tmp/sess");

    // The mode, DIR and HANDLER are three settings: none turns handling off,
    // an empty DIR or HANDLER leaves the earlier value.
    cl = ok({"-E", "keep,/tmp/sess", "-E", "none"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::none));
    BOOST_TEST(cl.session_dir.value() == "/tmp/sess");
    cl = ok({"-E", "none,/tmp/d,/bin/h"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::none));
    BOOST_TEST(cl.session_dir.value() == "/tmp/d");
    BOOST_TEST((cl.exit_handler.value() == std::vector<std::string>{"/bin/h"}));
    cl = ok({"-E", "keep,/tmp/d,/bin/h"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::keep));
    BOOST_TEST((cl.exit_handler.value() == std::vector<std::string>{"/bin/h"}));

    // Only the first two commas split: a handler path may hold commas.
    BOOST_TEST((ok({"-E", "process,/d,/bin/a,b"}).exit_handler.value() == std::vector<std::string>{"/bin/a,b"}));
}

BOOST_AUTO_TEST_CASE(options_E_and_O_later_wins)
{
    BOOST_TEST(ok({"-E", "keep,/a", "-O", "/b"}).session_dir.value() == "/b");
    BOOST_TEST(ok({"-O", "/b", "-E", "keep,/a"}).session_dir.value() == "/a");
    const CommandLine cl = ok({"-O", "/b", "-E", "keep,/a"});
    BOOST_TEST((cl.session_mode.value() == SessionMode::keep));
}

BOOST_AUTO_TEST_CASE(later_option_overrides_earlier)
{
    BOOST_TEST(ok({"-t", "5", "-t", "10"}).timeout.value() == 10u);
    BOOST_TEST(ok({"-l", "a", "-l", "b"}).logname.value() == "b");
    BOOST_TEST(ok({"-f", "/a", "-f", "/b"}).config_file == "/b");
}

BOOST_AUTO_TEST_CASE(grouped_flags_as_getopt)
{
    CommandLine cl = ok({"-dnex"});
    BOOST_TEST((cl.debug && cl.no_resolve && cl.empty_env && cl.extended_info));

    cl = ok({"-dnt30"});
    BOOST_TEST((cl.debug && cl.no_resolve));
    BOOST_TEST(cl.timeout.value() == 30u);

    cl = ok({"-dnt", "30"});
    BOOST_TEST(cl.timeout.value() == 30u);

    cl = ok({"-t30"});
    BOOST_TEST(cl.timeout.value() == 30u);

    // The argument-taking letter ends the group: "dn" here is -l's argument.
    cl = ok({"-ldn"});
    BOOST_TEST(cl.logname.value() == "dn");
    BOOST_TEST(!cl.debug);

    cl = ok({"-sb", "127.0.0.1:9000", "./handler"});
    BOOST_TEST(cl.bind.value() == "127.0.0.1:9000");

    // An option's argument is the next word whatever it looks like.
    BOOST_TEST(ok({"-l", "-d"}).logname.value() == "-d");
}

BOOST_AUTO_TEST_CASE(host_server_operand)
{
    CommandLine cl = ok({"-d", "-n", "-b", "127.0.0.1:9000", "127.0.0.1:25"});
    BOOST_TEST(cl.server.value() == "127.0.0.1:25");
    BOOST_TEST(cl.server_args.empty());
    BOOST_TEST(ok({"-b", "9000", "[::1]:25"}).server.value() == "[::1]:25");
    BOOST_TEST(ok({"-b", "9000", "mail.example.org"}).server.value() == "mail.example.org");
    BOOST_TEST(ok({"-b", "9000", "localhost:smtp"}).server.value() == "localhost:smtp");
    // inetd: SERVER without -b.
    cl = ok({"-t", "5", "127.0.0.1:25"});
    BOOST_TEST(cl.server.value() == "127.0.0.1:25");
    BOOST_TEST(!cl.standalone);
}

BOOST_AUTO_TEST_CASE(program_server_takes_the_rest_as_arguments)
{
    const CommandLine cl = ok({"-b", "9000", "/bin/echo", "-n", "hello", "--", "-t"});
    BOOST_TEST(cl.server.value() == "/bin/echo");
    BOOST_TEST((cl.server_args == std::vector<std::string>{"-n", "hello", "--", "-t"}));
    BOOST_TEST(!cl.no_resolve, "-n after the program is the program's");
    BOOST_TEST(ok({"-b", "9000", "./handler"}).server.value() == "./handler");
}

BOOST_AUTO_TEST_CASE(double_dash_ends_options)
{
    const CommandLine cl = ok({"-b", "9000", "--", "./handler", "-x"});
    BOOST_TEST(cl.server.value() == "./handler");
    BOOST_TEST((cl.server_args == std::vector<std::string>{"-x"}));
    BOOST_TEST(!cl.extended_info);
}

BOOST_AUTO_TEST_CASE(check_config)
{
    CommandLine cl = ok({"--check-config"});
    BOOST_TEST((cl.action == CommandLine::Action::check_config));
    cl = ok({"--check-config", "-f", "/tmp/t.conf"});
    BOOST_TEST((cl.action == CommandLine::Action::check_config));
    BOOST_TEST(cl.config_file == "/tmp/t.conf");
    cl = ok({"-f", "/tmp/t.conf", "--check-config"});
    BOOST_TEST(cl.config_file == "/tmp/t.conf");
}

BOOST_AUTO_TEST_CASE(status)
{
    CommandLine cl = ok({"--status"});
    BOOST_TEST((cl.action == CommandLine::Action::status));
    cl = ok({"--status", "-o", "/run/tcpproxy"});
    BOOST_TEST(cl.statdir.value() == "/run/tcpproxy");
    cl = ok({"--status", "-f", "/tmp/t.conf"});
    BOOST_TEST(cl.config_file == "/tmp/t.conf");
}

BOOST_AUTO_TEST_CASE(decode)
{
    CommandLine cl = ok({"--decode", "/tmp/cap.1.1.log"});
    BOOST_TEST((cl.action == CommandLine::Action::decode));
    BOOST_TEST(cl.decode_file.value() == "/tmp/cap.1.1.log");
    BOOST_TEST(!cl.decode_client_out);
    cl = ok({"--decode=/tmp/c", "--client-out", "/tmp/in", "--server-out=/tmp/out"});
    BOOST_TEST(cl.decode_file.value() == "/tmp/c");
    BOOST_TEST(cl.decode_client_out.value() == "/tmp/in");
    BOOST_TEST(cl.decode_server_out.value() == "/tmp/out");
}

BOOST_AUTO_TEST_CASE(help_and_version)
{
    BOOST_TEST((ok({"-h"}).action == CommandLine::Action::help));
    BOOST_TEST((ok({"--help"}).action == CommandLine::Action::help));
    BOOST_TEST((ok({"-V"}).action == CommandLine::Action::version));
    BOOST_TEST((ok({"--version"}).action == CommandLine::Action::version));
    // Help wins over what follows it (as with getopt, where it exits at once) ...
    BOOST_TEST((ok({"-d", "-h", "-Z", "-b"}).action == CommandLine::Action::help));
    BOOST_TEST((ok({"-dh"}).action == CommandLine::Action::help));
    // ... but not over an error before it.
    error_of({"-Z", "--help"});
}

BOOST_AUTO_TEST_CASE(usage_and_help_text)
{
    const std::string usage = usage_line();
    BOOST_TEST(usage.rfind("usage: tcpproxy", 0) == 0);
    BOOST_TEST(usage.find('\n') == std::string::npos);
    BOOST_TEST(usage.size() <= 80u);
    const std::string help = help_text();
    BOOST_TEST(help.rfind("usage: tcpproxy", 0) == 0);
    for (const char* opt : {"-a PROGRAM",
                            "-b [IFACE:]PORT",
                            "-d ",
                            "-e ",
                            "-f FILE",
                            "-l NAME",
                            "-n ",
                            "-o DIR",
                            "-p ",
                            "-pp FILE",
                            "-q IP",
                            "-r MODE",
                            "-s ",
                            "-t SECONDS",
                            "-u USER[.GROUP]",
                            "-v PREFIX",
                            "-w BASENAME",
                            "-x ",
                            "-A ACL",
                            "-E MODE,DIR,HANDLER",
                            "-O DIR",
                            "--check-config",
                            "--status",
                            "--decode FILE",
                            "--client-out F",
                            "--server-out F",
                            "-h, --help",
                            "-V, --version",
                            "-dn"})
        BOOST_TEST(help.find(opt) != std::string::npos, "--help does not mention " << opt);
    std::size_t start = 0;
    while (start < help.size()) {
        const std::size_t end = help.find('\n', start);
        BOOST_TEST(end - start <= 80u, "help line longer than 80 columns: " << help.substr(start, end - start));
        start = end == std::string::npos ? help.size() : end + 1;
    }
}

// ---- errors ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_options)
{
    BOOST_TEST(error_of({"-Z"}) == "tcpproxy: unknown option -Z");
    BOOST_TEST(error_of({"-dZ"}) == "tcpproxy: unknown option -Z");
    BOOST_TEST(error_of({"--no-such-option"}) == "tcpproxy: unknown option --no-such-option");
    BOOST_TEST(error_of({"--no-such-option=1"}) == "tcpproxy: unknown option --no-such-option");
    BOOST_TEST(error_of({"-\x01"}) == "tcpproxy: unknown option -\\x01");
    BOOST_TEST(error_of({"-\xc3\xa9"}) == "tcpproxy: unknown option -\\xc3");
    BOOST_TEST(error_of({"--check"}) == "tcpproxy: unknown option --check"); // no abbreviations
}

BOOST_AUTO_TEST_CASE(missing_arguments)
{
    const std::vector<std::pair<const char*, const char*>> options{{"-a", "PROGRAM"},
                                                                   {"-b", "[IFACE:]PORT"},
                                                                   {"-f", "FILE"},
                                                                   {"-l", "NAME"},
                                                                   {"-o", "DIR"},
                                                                   {"-q", "IP"},
                                                                   {"-r", "MODE"},
                                                                   {"-t", "SECONDS"},
                                                                   {"-u", "USER[.GROUP]"},
                                                                   {"-v", "PREFIX"},
                                                                   {"-w", "BASENAME"},
                                                                   {"-A", "ACL"},
                                                                   {"-E", "MODE,DIR,HANDLER"},
                                                                   {"-O", "DIR"},
                                                                   {"--decode", "FILE"},
                                                                   {"--client-out", "FILE"},
                                                                   {"--server-out", "FILE"}};
    for (const auto& [opt, arg] : options)
        BOOST_TEST(error_of({"-d", "-n", opt}) ==
                   std::string("tcpproxy: option ") + opt + " needs an argument (" + arg + ")");
    BOOST_TEST(error_of({"-dnt"}) == "tcpproxy: option -t needs an argument (SECONDS)");
    BOOST_TEST(error_of({"-pp"}) == "tcpproxy: option -p needs an argument (FILE)");
    BOOST_TEST(error_of({"-p", "-p"}) == "tcpproxy: option -p needs an argument (FILE)");
}

BOOST_AUTO_TEST_CASE(empty_arguments)
{
    BOOST_TEST(error_of({"-f", ""}) == "tcpproxy: option -f: empty FILE");
    BOOST_TEST(error_of({"-u", ""}) == "tcpproxy: option -u: empty USER[.GROUP]");
    BOOST_TEST(error_of({"-v", ""}) == "tcpproxy: option -v: empty PREFIX");
    BOOST_TEST(error_of({"--decode="}) == "tcpproxy: option --decode: empty FILE");
    BOOST_TEST(error_of({"-pp", ""}) == "tcpproxy: option -p: empty FILE");
}

BOOST_AUTO_TEST_CASE(bad_timeout)
{
    BOOST_TEST(error_of({"-t", "abc"}) == "tcpproxy: option -t: \"abc\" is not a number of seconds");
    BOOST_TEST(error_of({"-t", "-5"}) == "tcpproxy: option -t: \"-5\" is not a number of seconds");
    BOOST_TEST(error_of({"-t", "+5"}) == "tcpproxy: option -t: \"+5\" is not a number of seconds");
    BOOST_TEST(error_of({"-t", "5s"}) == "tcpproxy: option -t: \"5s\" is not a number of seconds");
    BOOST_TEST(error_of({"-t", " 5"}) == "tcpproxy: option -t: \" 5\" is not a number of seconds");
    BOOST_TEST(error_of({"-t", "31536001"}) == "tcpproxy: option -t: 31536001 seconds is out of range (0-31536000)");
    BOOST_TEST(error_of({"-t", "99999999999999999999999"}) ==
               "tcpproxy: option -t: 99999999999999999999999 seconds is out of range (0-31536000)");
    BOOST_TEST(error_of({"-t", "a\nb"}) == "tcpproxy: option -t: \"a\\x0ab\" is not a number of seconds");
}

BOOST_AUTO_TEST_CASE(bad_bind)
{
    const auto bind_error = [](const char* value) { return error_of({"-b", value, "127.0.0.1:25"}); };
    BOOST_TEST(bind_error("127.0.0.1:no-such-service-xyz") ==
               "tcpproxy: option -b: \"no-such-service-xyz\" is neither a port number nor a known TCP service");
    BOOST_TEST(bind_error("no-such-service-xyz") ==
               "tcpproxy: option -b: \"no-such-service-xyz\" is neither a port number nor a known TCP service");
    BOOST_TEST(bind_error("70000") == "tcpproxy: option -b: port 70000 is out of range (1-65535)");
    BOOST_TEST(bind_error("0") == "tcpproxy: option -b: port 0 is out of range (1-65535)");
    BOOST_TEST(bind_error("127.0.0.1:") == "tcpproxy: option -b: no PORT in \"127.0.0.1:\"");
    BOOST_TEST(
        bind_error(":80") ==
        "tcpproxy: option -b: no interface before \":\" in \":80\" (give PORT alone to listen on all interfaces)");
    BOOST_TEST(bind_error("::1:80") ==
               "tcpproxy: option -b: an IPv6 address must be in brackets, as in [::1]:8080; got \"::1:80\"");
    BOOST_TEST(bind_error("[::1]80") == "tcpproxy: option -b: expected :PORT after the IPv6 address in \"[::1]80\"");
    BOOST_TEST(bind_error("[::1]") == "tcpproxy: option -b: expected :PORT after the IPv6 address in \"[::1]\"");
    BOOST_TEST(bind_error("[::1:80") == "tcpproxy: option -b: no \"]\" closing the IPv6 address in \"[::1:80\"");
    BOOST_TEST(bind_error("[eth0]:80") == "tcpproxy: option -b: \"[eth0]\" is not an IPv6 address");
    BOOST_TEST(bind_error("1.2.3:80") == "tcpproxy: option -b: \"1.2.3\" is not a valid IPv4 address");
    BOOST_TEST(bind_error("a/b:80").find("tcpproxy: option -b: \"a/b\" is not an address or a network interface") == 0);
}

BOOST_AUTO_TEST_CASE(bad_values)
{
    BOOST_TEST(error_of({"-r", "sideways"}) ==
               "tcpproxy: option -r: \"sideways\" is not a redirect mode (none, accept, forward, forward-only, only)");
    BOOST_TEST(error_of({"-q", "10.1"}) == "tcpproxy: option -q: \"10.1\" is not an IPv4 or IPv6 address");
    BOOST_TEST(error_of({"-q", "host.example"}) ==
               "tcpproxy: option -q: \"host.example\" is not an IPv4 or IPv6 address");
    BOOST_TEST(error_of({"-q", "[10.0.0.1]"}) == "tcpproxy: option -q: \"[10.0.0.1]\" is not an IPv4 or IPv6 address");
    BOOST_TEST(error_of({"-v", "1X"}).rfind("tcpproxy: option -v: \"1X\" is not a usable variable prefix", 0) == 0);
    BOOST_TEST(error_of({"-v", "A=B"}).rfind("tcpproxy: option -v: \"A=B\" is not a usable variable prefix", 0) == 0);
    BOOST_TEST(error_of({"-l", "a b"}).rfind("tcpproxy: option -l: \"a b\" is not a usable name", 0) == 0);
    BOOST_TEST(error_of({"-l", "a/b"}).rfind("tcpproxy: option -l: \"a/b\" is not a usable name", 0) == 0);
}

BOOST_AUTO_TEST_CASE(bad_acl)
{
    BOOST_TEST(error_of({"-A", "10.1/16"}).rfind("tcpproxy: option -A: ACL item \"10.1/16\": ", 0) == 0);
    BOOST_TEST(
        error_of({"-A", "10.0.0.0/255.0.255.0"}).rfind("tcpproxy: option -A: ACL item \"10.0.0.0/255.0.255.0\": ", 0) ==
        0);
    BOOST_TEST(error_of({"-A", "+127.0.0.1,,10.0.0.0/8"}) ==
               "tcpproxy: option -A: empty ACL item in \"+127.0.0.1,,10.0.0.0/8\"");
    BOOST_TEST(error_of({"-A", "127.0.0.1,"}) == "tcpproxy: option -A: empty ACL item in \"127.0.0.1,\"");
    // A good -A before a bad one does not make the bad one pass.
    error_of({"-A", "127.0.0.1", "-A", "nonsense"});
}

BOOST_AUTO_TEST_CASE(bad_session_option)
{
    BOOST_TEST(error_of({"-E", "discard,/d"}) ==
               "tcpproxy: option -E: \"discard\" is not a session mode (none, keep, process)");
    BOOST_TEST(error_of({"-E", "keep"}) == "tcpproxy: option -E: mode keep needs a session DIR (keep,DIR)");
    BOOST_TEST(error_of({"-E", "keep,"}) == "tcpproxy: option -E: mode keep needs a session DIR (keep,DIR)");
    BOOST_TEST(error_of({"-E", "process,/d"}) ==
               "tcpproxy: option -E: mode process needs a HANDLER (process,DIR,HANDLER)");
    BOOST_TEST(error_of({"-E", "process"}) ==
               "tcpproxy: option -E: mode process needs a session DIR (process,DIR,HANDLER)");
    BOOST_TEST(error_of({"-E", "process,,/bin/h"}) ==
               "tcpproxy: option -E: mode process needs a session DIR (process,DIR,HANDLER)");
    BOOST_TEST(error_of({"-E", ",/d"}) == "tcpproxy: option -E: \"\" is not a session mode (none, keep, process)");
}

BOOST_AUTO_TEST_CASE(long_option_arguments)
{
    BOOST_TEST(error_of({"--help=yes"}) == "tcpproxy: option --help takes no argument");
    BOOST_TEST(error_of({"--check-config=1"}) == "tcpproxy: option --check-config takes no argument");
}

BOOST_AUTO_TEST_CASE(impossible_combinations)
{
    BOOST_TEST(error_of({"-d", "-n", "-b", "127.0.0.1:9000"}) == "tcpproxy: option -b needs a SERVER to forward to");
    BOOST_TEST(error_of({"--check-config", "127.0.0.1:25"}) ==
               "tcpproxy: --check-config takes no SERVER, got \"127.0.0.1:25\"");
    BOOST_TEST(error_of({"--check-config", "-d"}) == "tcpproxy: option -d cannot be used with --check-config");
    BOOST_TEST(error_of({"-b", "9000", "--check-config"}) == "tcpproxy: option -b cannot be used with --check-config");
    BOOST_TEST(error_of({"--check-config", "--status"}) ==
               "tcpproxy: --check-config and --status cannot be used together");
    BOOST_TEST(error_of({"--status", "--decode", "/f"}) == "tcpproxy: --status and --decode cannot be used together");
    BOOST_TEST(error_of({"--status", "-t", "5"}) == "tcpproxy: option -t cannot be used with --status");
    BOOST_TEST(error_of({"--status", "./x"}) == "tcpproxy: --status takes no SERVER, got \"./x\"");
    BOOST_TEST(error_of({"--decode", "/f", "-o", "/d"}) == "tcpproxy: option -o cannot be used with --decode");
    BOOST_TEST(error_of({"--client-out", "/f"}) == "tcpproxy: option --client-out needs --decode FILE");
    BOOST_TEST(error_of({"--server-out", "/f", "--status"}) == "tcpproxy: option --server-out needs --decode FILE");
    BOOST_TEST(error_of({"-f", "/etc/t.conf", "-b", "9000", "127.0.0.1:25"}) ==
               "tcpproxy: option -f cannot be used with SERVER (with SERVER no config file is read)");
    BOOST_TEST(error_of({"-s", "127.0.0.1:25"}) == "tcpproxy: option -s needs -b [IFACE:]PORT when SERVER is given");
    BOOST_TEST(error_of({"-p", "127.0.0.1:25"}) ==
               "tcpproxy: option -p needs -b [IFACE:]PORT (a pidfile is written only in standalone mode)");
}

BOOST_AUTO_TEST_CASE(bad_server_operands)
{
    BOOST_TEST(error_of({"-b", "9000", "127.0.0.1:25", "-d"}) ==
               "tcpproxy: unexpected argument \"-d\" after SERVER \"127.0.0.1:25\" "
               "(options go before SERVER; only a program SERVER takes arguments)");
    BOOST_TEST(error_of({"-b", "9000", "127.0.0.1:nosuchservicexyz"})
                   .rfind("tcpproxy: SERVER \"127.0.0.1:nosuchservicexyz\": ", 0) == 0);
    BOOST_TEST(error_of({"-b", "9000", "::1:25"}).rfind("tcpproxy: SERVER \"::1:25\": ", 0) == 0);
    BOOST_TEST(error_of({"-b", "9000", ""}).rfind("tcpproxy: SERVER \"\": ", 0) == 0);
    BOOST_TEST(error_of({"-b", "9000", "[::1:25"}).rfind("tcpproxy: SERVER \"[::1:25\": ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(every_truncation_and_mangling_gives_a_result_or_one_error_line)
{
    // Bad input never crashes: cut a full command line at every word, and
    // replace each word in turn by something malformed.
    const std::vector<std::string> full{"-dnex",
                                        "-a",
                                        "/bin/acp",
                                        "-l",
                                        "log",
                                        "-o",
                                        "/st",
                                        "-pp",
                                        "/p",
                                        "-q",
                                        "::1",
                                        "-r",
                                        "only",
                                        "-t",
                                        "5",
                                        "-u",
                                        "root",
                                        "-v",
                                        "P_",
                                        "-w",
                                        "/cap",
                                        "-A",
                                        "1.2.3.4/8, -::1",
                                        "-E",
                                        "keep,/s",
                                        "-O",
                                        "/o",
                                        "-b",
                                        "[::1]:smtp",
                                        "/bin/echo",
                                        "x"};
    for (const char* junk : {"", "-", "--", "-\x7f", "[", ":", ",", "--=", "-p"}) {
        for (std::size_t cut = 0; cut <= full.size(); ++cut) {
            for (std::size_t bad = 0; bad <= cut; ++bad) {
                std::vector<const char*> argv{"tcpproxy"};
                for (std::size_t i = 0; i < cut; ++i)
                    argv.push_back(i == bad ? junk : full[i].c_str());
                argv.push_back(nullptr);
                const auto r = parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
                if (!r) {
                    BOOST_TEST(!r.error().message.empty());
                    BOOST_TEST(r.error().message.find('\n') == std::string::npos);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
