#include "tcpproxy/process/environment.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace tcpproxy;

namespace {

IpAddress ip(const char* t) { return *IpAddress::parse(t); }

struct Fixture {
    Config config;
    SessionRecord r;
    Fixture()
    {
        PortConfig p;
        p.port = 25;
        Service s;
        s.interface.kind = InterfaceSpec::Kind::nic;
        s.interface.name = "ppp0";
        s.interface.text = "ppp0";
        s.name = "mail";
        s.logname = "smtpproxy";
        p.services.push_back(s);
        config.ports.push_back(p);
        r.service = &config.ports[0].services[0];
        r.client = Endpoint{ip("192.0.2.7"), 40000};
        r.client_name = "client.example";
        r.local = Endpoint{ip("198.51.100.1"), 25};
        r.started = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    }
};

std::string value(const Variables& v, const std::string& name)
{
    auto it = std::find_if(v.begin(), v.end(), [&](const auto& p) { return p.first == name; });
    return it == v.end() ? "<unset>" : it->second;
}

bool has(const std::vector<std::string>& env, const std::string& entry)
{
    return std::find(env.begin(), env.end(), entry) != env.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(environment)

BOOST_FIXTURE_TEST_CASE(handler_stage_has_the_connection_variables, Fixture)
{
    const auto v = session_variables(r, VariableStage::handler, 4242);
    BOOST_TEST(value(v, "BINDING") == "ppp0:25");
    BOOST_TEST(value(v, "CLIENT") == "192.0.2.7");
    BOOST_TEST(value(v, "CLIENTNAME") == "client.example");
    BOOST_TEST(value(v, "INTERFACE") == "198.51.100.1");
    BOOST_TEST(value(v, "PORT") == "25");
    BOOST_TEST(value(v, "LOGNAME") == "smtpproxy");
    BOOST_TEST(value(v, "NAME") == "mail");
    BOOST_TEST(value(v, "PID") == "4242");
    BOOST_TEST(value(v, "PROGRAM") == "tcpproxy");
    BOOST_TEST(value(v, "STARTED") == "1700000000");
    for (const char* late :
         {"BYTES_CLIENT", "BYTES_SERVER", "DURATION", "STATUS", "STATUSCODE", "SERVER", "ORIGDST_SERVER"})
        BOOST_TEST(value(v, late) == "<unset>", late);
}

BOOST_FIXTURE_TEST_CASE(end_stage_adds_server_bytes_and_status, Fixture)
{
    r.server = Endpoint{ip("2001:db8::5"), 2525};
    r.server_name = "mx.example";
    r.bytes_client = 10;
    r.bytes_server = 20;
    r.duration = std::chrono::seconds(3);
    r.status = Status::warning;
    r.origdst = Endpoint{ip("203.0.113.9"), 25};
    const auto v = session_variables(r, VariableStage::end, 1);
    BOOST_TEST(value(v, "SERVER") == "2001:db8::5");
    BOOST_TEST(value(v, "SERVERNAME") == "mx.example");
    BOOST_TEST(value(v, "SERVERPORT") == "2525");
    BOOST_TEST(value(v, "BYTES_CLIENT") == "10");
    BOOST_TEST(value(v, "BYTES_SERVER") == "20");
    BOOST_TEST(value(v, "DURATION") == "3");
    BOOST_TEST(value(v, "STATUS") == "WARNING");
    BOOST_TEST(value(v, "STATUSCODE") == "1");
    BOOST_TEST(value(v, "ORIGDST_SERVER") == "203.0.113.9");
    BOOST_TEST(value(v, "ORIGDST_PORT") == "25");
}

BOOST_FIXTURE_TEST_CASE(mapped_client_is_shown_as_ipv4, Fixture)
{
    r.client = Endpoint{ip("::ffff:192.0.2.8"), 1};
    r.client_name.clear();
    const auto v = session_variables(r, VariableStage::handler, 1);
    BOOST_TEST(value(v, "CLIENT") == "192.0.2.8");
    BOOST_TEST(value(v, "CLIENTNAME") == "192.0.2.8");
}

BOOST_AUTO_TEST_CASE(prefix_and_inherited_environment)
{
    const char* inherited[] = {"HOME=/root", "PATH=/opt/bin", "X_CLIENT=old", nullptr};
    const auto env = build_environment({{"CLIENT", "1.2.3.4"}}, "X_", false, inherited);
    BOOST_TEST(has(env, "X_CLIENT=1.2.3.4"));
    BOOST_TEST(!has(env, "X_CLIENT=old")); // replaced, not duplicated
    BOOST_TEST(has(env, "HOME=/root"));
    BOOST_TEST(has(env, "PATH=/opt/bin"));
}

BOOST_AUTO_TEST_CASE(empty_environment_keeps_only_path)
{
    const char* inherited[] = {"HOME=/root", "PATH=/opt/bin", nullptr};
    const auto env = build_environment({{"PORT", "25"}}, "PROXY_", true, inherited);
    BOOST_TEST(env.size() == 2u);
    BOOST_TEST(has(env, "PROXY_PORT=25"));
    BOOST_TEST(has(env, "PATH=/opt/bin"));
}

BOOST_AUTO_TEST_CASE(empty_environment_without_path_gets_the_default)
{
    const char* inherited[] = {"HOME=/root", nullptr};
    const auto env = build_environment({}, "PROXY_", true, inherited);
    BOOST_TEST(env.size() == 1u);
    BOOST_TEST(has(env, std::string("PATH=") + default_path));
}

BOOST_AUTO_TEST_CASE(values_lose_control_characters)
{
    const auto env = build_environment({{"NAME", "a\nb\x01"
                                                 "c\x7f"}},
                                       "P_", true, nullptr);
    BOOST_TEST(has(env, "P_NAME=a?b?c?"));
}

BOOST_AUTO_TEST_SUITE_END()
