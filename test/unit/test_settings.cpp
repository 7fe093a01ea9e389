// config_from_command_line (-b and inetd) and apply_command_line (config
// mode): every option lands where the rest of the program reads it.
#include "tcpproxy/config/values.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/test/unit_test.hpp>

#include <grp.h>
#include <pwd.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace tcpproxy;

namespace {

CommandLine command_line(std::initializer_list<const char*> args)
{
    std::vector<const char*> argv{"tcpproxy"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    auto r = parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
    BOOST_TEST_REQUIRE(r.has_value(), "command line rejected: " << (r ? std::string() : r.error().message));
    return *r;
}

std::shared_ptr<const Config> from_cl(std::initializer_list<const char*> args)
{
    SettingsResult r = config_from_command_line(command_line(args));
    BOOST_TEST_REQUIRE(r.has_value(), "settings rejected: " << (r ? std::string() : r.error().message));
    BOOST_TEST_REQUIRE(*r != nullptr);
    return *r;
}

const Service& only_service(const Config& c)
{
    BOOST_TEST_REQUIRE(c.ports.size() == 1u);
    BOOST_TEST_REQUIRE(c.ports[0].services.size() == 1u);
    return c.ports[0].services[0];
}

// A copy: the Config it comes from is gone when the call returns.
Service service_of(std::initializer_list<const char*> args) { return only_service(*from_cl(args)); }

AclItem item(const char* text) { return grammar::acl_item(text)->item; }

// A config as the file loader would produce it: two ports, three services,
// with values the command line is to override (or leave alone).
std::shared_ptr<Config> file_config()
{
    auto c = std::make_shared<Config>();
    c->file = "/etc/tcpproxy.conf";
    c->standalone = false;
    c->pidfile = "/run/file.pid";
    c->statdir = "/var/file-stat";
    c->session = {SessionMode::keep, "/var/file-sess", status_bit(Status::access), {}, {}};
    c->max_sessions = 77;
    for (std::uint16_t p : {25, 110}) {
        PortConfig port;
        port.port = p;
        for (int i = 0; i < (p == 25 ? 2 : 1); ++i) {
            Service s;
            s.interface.text = "*";
            s.servers.push_back(*parse_upstream("127.0.0.1:2525"));
            s.acl = {item("+10.0.0.0/8")};
            s.acp = "/file/acp";
            s.timeout = 600;
            s.redirect = RedirectMode::accept;
            s.rotate = {{*IpAddress::parse("127.0.0.10"), *IpAddress::parse("127.0.0.20")}};
            s.writefile = "/file/cap";
            s.logname = "filelog";
            s.name = "svc" + std::to_string(p);
            s.var_prefix = "FILE_";
            s.proxy_protocol = 2;
            port.services.push_back(s);
        }
        c->ports.push_back(port);
    }
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(settings)

BOOST_AUTO_TEST_CASE(bind_mode_one_port_one_service)
{
    const auto c = from_cl({"-b", "127.0.0.1:9000", "127.0.0.1:25"});
    BOOST_TEST(c->file.empty());
    BOOST_TEST(c->standalone.value());
    BOOST_TEST(c->ports.at(0).port == 9000);
    const Service& s = only_service(*c);
    BOOST_TEST((s.interface.kind == InterfaceSpec::Kind::address));
    BOOST_TEST(s.interface.address.str() == "127.0.0.1");
    BOOST_TEST(s.interface.text == "127.0.0.1");
    BOOST_TEST_REQUIRE(s.servers.size() == 1u);
    BOOST_TEST(s.servers[0].host == "127.0.0.1");
    BOOST_TEST(s.servers[0].port.value() == 25);
    BOOST_TEST(s.exec.empty());
    // Untouched defaults.
    BOOST_TEST(s.timeout == 60u);
    BOOST_TEST(s.logname == "tcpproxy");
    BOOST_TEST(s.var_prefix == "PROXY_");
    BOOST_TEST(s.acl.empty());
    BOOST_TEST(!c->debug);
    BOOST_TEST(c->resolve_names);
    BOOST_TEST(!c->session.active());
}

BOOST_AUTO_TEST_CASE(bind_interfaces)
{
    const Service any = service_of({"-b", "9000", "[::1]:25"});
    BOOST_TEST((any.interface.kind == InterfaceSpec::Kind::any));
    BOOST_TEST(any.interface.text == "*");
    BOOST_TEST(any.servers.at(0).host == "::1");

    const auto v6 = from_cl({"-b", "[::1]:smtp", "localhost"});
    BOOST_TEST(v6->ports.at(0).port == 25);
    const Service& s6 = only_service(*v6);
    BOOST_TEST((s6.interface.kind == InterfaceSpec::Kind::address));
    BOOST_TEST(s6.interface.address.str() == "::1");
    BOOST_TEST(!s6.servers.at(0).port, "no PORT: the local port");

    const Service nic = service_of({"-b", "lo:9000", "127.0.0.1:25"});
    BOOST_TEST((nic.interface.kind == InterfaceSpec::Kind::nic));
    BOOST_TEST(nic.interface.name == "lo");
}

BOOST_AUTO_TEST_CASE(inetd_mode_port_zero_any_interface)
{
    const auto c = from_cl({"-t", "5", "127.0.0.1:25"});
    BOOST_TEST(!c->standalone.value());
    BOOST_TEST(c->ports.at(0).port == 0, "0 = the local port of stdin");
    const Service& s = only_service(*c);
    BOOST_TEST((s.interface.kind == InterfaceSpec::Kind::any));
    BOOST_TEST(s.interface.text == "*");
    BOOST_TEST(s.timeout == 5u);
}

BOOST_AUTO_TEST_CASE(program_server_is_exec)
{
    const Service s = service_of({"-b", "9000", "/bin/echo", "-n", "two words"});
    BOOST_TEST(s.servers.empty());
    BOOST_TEST((s.exec == std::vector<std::string>{"/bin/echo", "-n", "two words"}));
    BOOST_TEST((service_of({"./handler"}).exec == std::vector<std::string>{"./handler"}));
}

BOOST_AUTO_TEST_CASE(every_option_applied_in_bind_mode)
{
    const auto c = from_cl({"-d",          "-n",
                            "-e",          "-x",
                            "-a",          "/bin/acp",
                            "-l",          "mylog",
                            "-o",          "/tmp/st",
                            "-pp",         "/tmp/t.pid",
                            "-q",          "127.0.0.5",
                            "-r",          "forward-only",
                            "-t",          "0",
                            "-u",          "root",
                            "-v",          "MY_",
                            "-w",          "/tmp/cap",
                            "-A",          "+127.0.0.1",
                            "-A",          "-10.0.0.0/8, ::1",
                            "-E",          "process,/tmp/sess,/bin/handler",
                            "-b",          "9000",
                            "127.0.0.1:25"});
    BOOST_TEST(c->debug);
    BOOST_TEST(!c->resolve_names);
    BOOST_TEST(c->empty_env);
    BOOST_TEST(c->statdir == "/tmp/st");
    BOOST_TEST(c->pidfile == "/tmp/t.pid");
    BOOST_TEST((c->session.mode == SessionMode::process));
    BOOST_TEST(c->session.dir == "/tmp/sess");
    BOOST_TEST(c->session.exit_codes == all_statuses);
    BOOST_TEST((c->session.exit_handler == std::vector<std::string>{"/bin/handler"}));
    BOOST_TEST(c->session.active());
    const Service& s = only_service(*c);
    BOOST_TEST(s.extended_info);
    BOOST_TEST(s.acp == "/bin/acp");
    BOOST_TEST(s.logname == "mylog");
    BOOST_TEST(s.srcip.value().str() == "127.0.0.5");
    BOOST_TEST((s.redirect == RedirectMode::forward_only));
    BOOST_TEST(s.timeout == 0u);
    BOOST_TEST(s.connect_timeout() == 60u);
    BOOST_TEST(s.user.uid.value() == 0u);
    BOOST_TEST(s.user.gid.value() == 0u);
    BOOST_TEST(s.user.text == "root");
    BOOST_TEST(s.var_prefix == "MY_");
    BOOST_TEST(s.writefile == "/tmp/cap");
    const Acl expect{item("+127.0.0.1"), item("-10.0.0.0/8"), item("::1")};
    BOOST_TEST((s.acl == expect));
}

BOOST_AUTO_TEST_CASE(user_forms)
{
    const passwd* nobody = getpwnam("nobody");
    BOOST_TEST_REQUIRE(nobody != nullptr);
    const Service named = service_of({"-u", "nobody", "127.0.0.1:25"});
    BOOST_TEST(named.user.uid.value() == nobody->pw_uid);
    BOOST_TEST(named.user.gid.value() == nobody->pw_gid);

    const Service dotted = service_of({"-u", "nobody.root", "127.0.0.1:25"});
    BOOST_TEST(dotted.user.uid.value() == nobody->pw_uid);
    BOOST_TEST(dotted.user.gid.value() == 0u);

    const Service colon = service_of({"-u", "nobody:root", "127.0.0.1:25"});
    BOOST_TEST(colon.user.gid.value() == 0u);

    const Service numeric = service_of({"-u", "4242", "127.0.0.1:25"});
    BOOST_TEST(numeric.user.uid.value() == 4242u);
    BOOST_TEST(!numeric.user.gid, "a numeric id sets the user id only");

    const Service group_only = service_of({"-u", ".root", "127.0.0.1:25"});
    BOOST_TEST(!group_only.user.uid);
    BOOST_TEST(group_only.user.gid.value() == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_user_or_group_is_an_error)
{
    SettingsResult r = config_from_command_line(command_line({"-u", "no-such-user-xyz", "127.0.0.1:25"}));
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().message == "tcpproxy: option -u: unknown user \"no-such-user-xyz\"");

    r = config_from_command_line(command_line({"-u", "root:no-such-group-xyz", "127.0.0.1:25"}));
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().message == "tcpproxy: option -u: unknown group \"no-such-group-xyz\"");

    r = apply_command_line(command_line({"-u", "no-such-user-xyz"}), file_config());
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().message == "tcpproxy: option -u: unknown user \"no-such-user-xyz\"");
}

BOOST_AUTO_TEST_CASE(session_options)
{
    auto c = from_cl({"-E", "keep,/tmp/s", "-b", "9000", "127.0.0.1:25"});
    BOOST_TEST((c->session.mode == SessionMode::keep));
    BOOST_TEST(c->session.exit_codes == all_statuses);
    BOOST_TEST(c->session.exit_handler.empty());
    BOOST_TEST(c->session.active());

    c = from_cl({"-E", "keep,/tmp/s", "-O", "/tmp/o", "-b", "9000", "127.0.0.1:25"});
    BOOST_TEST(c->session.dir == "/tmp/o");
    c = from_cl({"-O", "/tmp/o", "-E", "keep,/tmp/s", "-b", "9000", "127.0.0.1:25"});
    BOOST_TEST(c->session.dir == "/tmp/s");

    // -O alone names the directory but turns nothing on.
    c = from_cl({"-O", "/tmp/o", "-b", "9000", "127.0.0.1:25"});
    BOOST_TEST(c->session.dir == "/tmp/o");
    BOOST_TEST(!c->session.active());
}

BOOST_AUTO_TEST_CASE(pidfile_default)
{
    BOOST_TEST(from_cl({"-p", "-b", "9000", "127.0.0.1:25"})->pidfile == "/var/run/tcpproxy.pid");
    BOOST_TEST(from_cl({"-b", "9000", "127.0.0.1:25"})->pidfile.empty());
}

BOOST_AUTO_TEST_CASE(config_mode_without_options_keeps_the_file)
{
    const auto file = file_config();
    SettingsResult r = apply_command_line(command_line({"-f", "/etc/tcpproxy.conf"}), file);
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr));
    const Config& c = **r;
    BOOST_TEST(!c.standalone.value());
    BOOST_TEST(c.pidfile == "/run/file.pid");
    BOOST_TEST(c.statdir == "/var/file-stat");
    BOOST_TEST((c.session.mode == SessionMode::keep));
    BOOST_TEST(c.session.exit_codes == status_bit(Status::access));
    BOOST_TEST(c.max_sessions == 77u);
    BOOST_TEST(!c.debug);
    BOOST_TEST(c.resolve_names);
    for (const PortConfig& p : c.ports)
        for (const Service& s : p.services) {
            BOOST_TEST(s.timeout == 600u);
            BOOST_TEST(s.acl.size() == 1u);
            BOOST_TEST(s.rotate.has_value());
            BOOST_TEST(s.logname == "filelog");
        }
}

BOOST_AUTO_TEST_CASE(config_mode_command_line_overrides_every_service)
{
    const auto file = file_config();
    SettingsResult r = apply_command_line(
        command_line({"-d",  "-n",    "-e",      "-s",     "-x",           "-a",   "/cl/acp",
                      "-l",  "cllog", "-o",      "/cl/st", "-p",           "-q",   "127.0.0.9",
                      "-r",  "none",  "-t",      "7",      "-u",           "root", "-v",
                      "CL_", "-w",    "/cl/cap", "-A",     "-10.1.0.0/16", "-E",   "process,/cl/sess,/cl/handler"}),
        file);
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr), (r ? std::string() : r.error().message));
    const Config& c = **r;
    BOOST_TEST(c.standalone.value());
    BOOST_TEST(c.debug);
    BOOST_TEST(!c.resolve_names);
    BOOST_TEST(c.empty_env);
    BOOST_TEST(c.pidfile == "/var/run/tcpproxy.pid");
    BOOST_TEST(c.statdir == "/cl/st");
    BOOST_TEST((c.session.mode == SessionMode::process));
    BOOST_TEST(c.session.dir == "/cl/sess");
    BOOST_TEST(c.session.exit_codes == all_statuses);
    BOOST_TEST((c.session.exit_handler == std::vector<std::string>{"/cl/handler"}));
    BOOST_TEST(c.max_sessions == 77u, "what the command line cannot set stays");
    BOOST_TEST(c.file == "/etc/tcpproxy.conf");

    std::size_t services = 0;
    for (const PortConfig& p : c.ports)
        for (const Service& s : p.services) {
            ++services;
            BOOST_TEST(s.acp == "/cl/acp");
            BOOST_TEST(s.logname == "cllog");
            BOOST_TEST(s.srcip.value().str() == "127.0.0.9");
            BOOST_TEST(!s.rotate, "-q replaces the file's rotation");
            BOOST_TEST((s.redirect == RedirectMode::none));
            BOOST_TEST(s.timeout == 7u);
            BOOST_TEST(s.user.uid.value() == 0u);
            BOOST_TEST(s.var_prefix == "CL_");
            BOOST_TEST(s.writefile == "/cl/cap");
            BOOST_TEST(s.extended_info);
            const Acl expect{item("+10.0.0.0/8"), item("-10.1.0.0/16")};
            BOOST_TEST((s.acl == expect), "-A adds to the file's ACL");
            // What the command line has no option for is the file's.
            BOOST_TEST(s.name == "svc" + std::to_string(p.port));
            BOOST_TEST(s.proxy_protocol == 2);
            BOOST_TEST(s.servers.at(0).text == "127.0.0.1:2525");
        }
    BOOST_TEST(services == 3u);

    // The file's Config itself is not changed.
    BOOST_TEST(file->ports[0].services[0].timeout == 600u);
    BOOST_TEST(!file->debug);
}

BOOST_AUTO_TEST_CASE(config_mode_session_options)
{
    // -O alone changes only the directory of the file's session handling.
    SettingsResult r = apply_command_line(command_line({"-O", "/cl/o"}), file_config());
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr));
    BOOST_TEST(((*r)->session.mode == SessionMode::keep));
    BOOST_TEST((*r)->session.dir == "/cl/o");
    BOOST_TEST((*r)->session.exit_codes == status_bit(Status::access));

    // -E none turns the file's session handling off.
    r = apply_command_line(command_line({"-E", "none"}), file_config());
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr));
    BOOST_TEST(!(*r)->session.active());

    // -E keep without HANDLER leaves the file's handler (keep runs none);
    // its exit-code list becomes "any".
    auto file = file_config();
    file->session = {SessionMode::process, "/f", status_bit(Status::ok), {"/f/handler", "arg"}, {}};
    r = apply_command_line(command_line({"-E", "keep,/cl/k"}), file);
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr));
    BOOST_TEST(((*r)->session.mode == SessionMode::keep));
    BOOST_TEST(((*r)->session.exit_handler == std::vector<std::string>{"/f/handler", "arg"}));
    BOOST_TEST((*r)->session.dir == "/cl/k");
    BOOST_TEST((*r)->session.exit_codes == all_statuses);

    // -E process replaces the file's handler with the one program.
    r = apply_command_line(command_line({"-E", "process,/cl/p,/cl/h"}), file);
    BOOST_TEST_REQUIRE((r.has_value() && *r != nullptr));
    BOOST_TEST(((*r)->session.exit_handler == std::vector<std::string>{"/cl/h"}));
}

BOOST_AUTO_TEST_CASE(config_mode_without_config_is_an_error)
{
    SettingsResult r = apply_command_line(command_line({}), nullptr);
    BOOST_TEST(!r.has_value());
    BOOST_TEST(!r.error().message.empty());
}

BOOST_AUTO_TEST_CASE(bind_mode_rejects_what_the_parser_would)
{
    // config_from_command_line is also safe on a hand-built CommandLine.
    CommandLine cl;
    BOOST_TEST(!config_from_command_line(cl).has_value());
    cl.server = "127.0.0.1:25";
    cl.bind = "no-such-service-xyz";
    SettingsResult r = config_from_command_line(cl);
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().message.rfind("tcpproxy: option -b: ", 0) == 0);
    cl.bind = "9000";
    cl.server = "127.0.0.1:bad-service-xyz";
    r = config_from_command_line(cl);
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().message.rfind("tcpproxy: SERVER: ", 0) == 0);
    cl.server = "127.0.0.1:25";
    cl.server_args = {"extra"};
    BOOST_TEST(!config_from_command_line(cl).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
