// Upstream connects in the metrics: the session keeps its attempts
// (session/upstream.cpp, no lock and no formatting per connect) and the
// reaper adds them to tcpproxy_upstream_connects_total when the session ends.
#include "session/upstream.hpp"
#include "session_threads.hpp"
#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/net/socket.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {

const IpAddress loopback = *IpAddress::parse("127.0.0.1");

std::uint16_t port_of(const Fd& fd) { return local_endpoint(fd.get()).port; }

metrics::Snapshot::Upstream counted(const Endpoint& e)
{
    const auto s = metrics::counters().snapshot();
    const auto it = s.upstreams.find(e.str());
    return it == s.upstreams.end() ? metrics::Snapshot::Upstream{} : it->second;
}

} // namespace

BOOST_AUTO_TEST_SUITE(upstream_attempts)

BOOST_AUTO_TEST_CASE(each_attempt_is_kept_by_the_session_not_counted_at_once)
{
    test::prepare_wake_signal();
    Fd refusing = bind_on(Endpoint{loopback, 0}, true); // bound, not listening: connect is refused
    Fd listening = listen_on(Endpoint{loopback, 0}, true, 8);
    const Endpoint dead{loopback, port_of(refusing)}, alive{loopback, port_of(listening)};
    Service service;
    service.servers.push_back(Upstream{"127.0.0.1", dead.port, "dead"});
    service.servers.push_back(Upstream{"127.0.0.1", alive.port, "alive"});
    Activity activity;
    activity.reset(0);

    UpstreamAttempts attempts;
    const auto up = connect_upstream(service, 1, activity, 1, attempts);
    BOOST_REQUIRE(up);
    BOOST_REQUIRE_EQUAL(attempts.size(), 2u);
    BOOST_TEST((attempts[0].server == dead));
    BOOST_TEST(attempts[0].failed);
    BOOST_TEST((attempts[1].server == alive));
    BOOST_TEST(!attempts[1].failed);
    // Nothing reached the process's counters yet: that is the reaper's job.
    BOOST_TEST(counted(dead).attempts == 0u);
    BOOST_TEST(counted(alive).attempts == 0u);
}

BOOST_AUTO_TEST_CASE(the_reaper_counts_a_sessions_attempts_at_its_end)
{
    // Ports no test connects to: 1 and 2 on 192.0.2.0/24 (documentation addresses).
    const Endpoint a{*IpAddress::parse("192.0.2.7"), 1}, b{*IpAddress::parse("192.0.2.7"), 2};
    const auto a0 = counted(a), b0 = counted(b);
    Reaper reaper(Reaper::Mode::inline_, 1);
    SessionRecord r;
    r.id = 1;
    r.config = std::make_shared<Config>();
    r.local = Endpoint{loopback, 1};
    r.started = std::chrono::system_clock::now();
    reaper.started(r);
    r.upstream_attempts = {UpstreamAttempt{a, true}, UpstreamAttempt{b, false}};
    reaper.submit(r);
    BOOST_TEST(counted(a).attempts == a0.attempts + 1);
    BOOST_TEST(counted(a).failures == a0.failures + 1);
    BOOST_TEST(counted(b).attempts == b0.attempts + 1);
    BOOST_TEST(counted(b).failures == b0.failures);
}

BOOST_AUTO_TEST_SUITE_END()
