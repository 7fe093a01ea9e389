// The Prometheus text exposition format (0.0.4) of the metrics listener:
// names, HELP/TYPE lines before each family's samples, label escaping, and
// counters that only add up.
#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/metrics/exposition.hpp"

#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

using namespace tcpproxy;
using namespace tcpproxy::metrics;
using tcpproxy::test::lines_of;

namespace {

Snapshot sample()
{
    Counters c;
    c.session_started(8080, "web \"main\"\\\n");
    c.session_ended(SessionEnd{8080, "web \"main\"\\\n", Status::ok, 100, 2000, false, true});
    c.session_started(25, "");
    c.session_ended(SessionEnd{25, "", Status::connect, 0, 0, false, true});
    c.upstream_connect("127.0.0.1:9", true);
    c.upstream_connect("[::1]:80", false);
    c.acp_run(true);
    c.reload(false);
    c.slots(64);
    c.port(8080).shed.fetch_add(3);
    return c.snapshot();
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_exposition)

BOOST_AUTO_TEST_CASE(label_values_escape_backslash_quote_newline)
{
    BOOST_TEST(escape_label("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
    BOOST_TEST(escape_help("a\\b\"c\nd") == "a\\\\b\"c\\nd"); // a quote stays in HELP
}

BOOST_AUTO_TEST_CASE(every_sample_follows_its_help_and_type)
{
    const auto text = render(sample(), "1.2.3");
    BOOST_TEST(text.back() == '\n');
    const std::regex help(R"(# HELP (tcpproxy_[a-z_]+) [^\n]+)");
    const std::regex type(R"(# TYPE (tcpproxy_[a-z_]+) (counter|gauge))");
    // name{label="value",...} value: the 0.0.4 grammar, with our names.
    const std::regex sample_line(
        R"((tcpproxy_[a-z_]+)(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? [0-9.e+-]+)");
    std::string family;
    std::set<std::string> seen;
    for (const auto& line : lines_of(text)) {
        std::smatch m;
        if (std::regex_match(line, m, help)) {
            family = m[1];
            BOOST_TEST(seen.insert(family).second, family << " has one HELP");
        } else if (std::regex_match(line, m, type)) {
            BOOST_TEST(m[1] == family, "TYPE right after HELP: " << line);
            if (m[2] == "counter")
                BOOST_TEST(family.ends_with("_total"), family << ": a counter's name ends in _total");
        } else {
            BOOST_TEST(std::regex_match(line, m, sample_line), "a sample line: " << line);
            BOOST_TEST(m[1] == family, "sample of the family announced last: " << line);
        }
    }
    for (const char* name :
         {"tcpproxy_build_info", "tcpproxy_sessions_total", "tcpproxy_sessions_started_total",
          "tcpproxy_sessions_active", "tcpproxy_session_slots", "tcpproxy_session_slots_in_use", "tcpproxy_bytes_total",
          "tcpproxy_upstream_connects_total", "tcpproxy_upstream_connect_failures_total", "tcpproxy_acp_runs_total",
          "tcpproxy_acp_failures_total", "tcpproxy_handler_runs_total", "tcpproxy_handler_failures_total",
          "tcpproxy_accept_backoff_episodes_total", "tcpproxy_shed_connections_total", "tcpproxy_reloads_total",
          "tcpproxy_last_reload_success_timestamp_seconds"})
        BOOST_TEST(seen.count(name) == 1, name << " is rendered");
}

BOOST_AUTO_TEST_CASE(values_and_labels)
{
    const auto text = render(sample(), "1.2.3");
    auto has = [&](const std::string& line) {
        const auto ls = lines_of(text);
        return std::find(ls.begin(), ls.end(), line) != ls.end();
    };
    BOOST_TEST(has(R"(tcpproxy_build_info{version="1.2.3"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_sessions_total{port="8080",service="web \"main\"\\\n",status="ok"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_sessions_total{port="25",service="",status="connect"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_bytes_total{port="8080",service="web \"main\"\\\n",direction="client_to_server"} 100)"));
    BOOST_TEST(
        has(R"(tcpproxy_bytes_total{port="8080",service="web \"main\"\\\n",direction="server_to_client"} 2000)"));
    BOOST_TEST(has(R"(tcpproxy_upstream_connect_failures_total{server="127.0.0.1:9"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_upstream_connects_total{server="[::1]:80"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_acp_failures_total 1)"));
    BOOST_TEST(has(R"(tcpproxy_reloads_total{result="refused"} 1)"));
    BOOST_TEST(has(R"(tcpproxy_reloads_total{result="ok"} 0)"));
    BOOST_TEST(has(R"(tcpproxy_session_slots 64)"));
    BOOST_TEST(has(R"(tcpproxy_shed_connections_total{port="8080"} 3)"));
    BOOST_TEST(has(R"(tcpproxy_sessions_active 0)"));
}

BOOST_AUTO_TEST_CASE(active_sessions_and_shed_connections)
{
    Counters c;
    c.session_started(1, "a");
    c.session_started(1, "a");
    BOOST_TEST(c.snapshot().sessions_active == 2u);
    c.session_ended(SessionEnd{1, "a", Status::ok, 1, 2, false, true});
    // A connection shed before it started does not end a running one.
    c.session_ended(SessionEnd{1, "", Status::proxy, 0, 0, false, false});
    const auto s = c.snapshot();
    BOOST_TEST(s.sessions_active == 1u);
    BOOST_TEST(s.sessions_started() == 2u);
    BOOST_TEST(s.sessions_ended() == 2u);
    BOOST_TEST(s.sessions_failed() == 1u);
    BOOST_TEST(s.bytes_client() == 1u);
    BOOST_TEST(s.bytes_server() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

#include "tcpproxy/metrics/totals.hpp"

BOOST_AUTO_TEST_SUITE(metrics_totals)

// --status sums what the listener renders: the same counters, read back.
BOOST_AUTO_TEST_CASE(totals_read_back_from_the_exposition)
{
    const auto t = totals_of(render(sample(), "1"));
    BOOST_TEST(t.sessions_started == 2u);
    BOOST_TEST(t.sessions_ended == 2u);
    BOOST_TEST(t.failed == 1u);
    BOOST_TEST(t.bytes_client == 100u);
    BOOST_TEST(t.bytes_server == 2000u);
    BOOST_TEST(describe(t) ==
               "totals: 2 sessions (2 ended, 1 not OK), 100 bytes from clients, 2000 bytes from servers");
}

BOOST_AUTO_TEST_SUITE_END()
