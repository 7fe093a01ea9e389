// Activity (core/activity.cpp): the session's shared idle clock and stop
// flag, on a fake clock so that every timeout is decided by the test.
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/core/fd.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

std::atomic<std::int64_t> fake_now{0};
std::int64_t fake_clock() noexcept { return fake_now.load(); }

// A socket pair: `readable` has a byte waiting, `silent` never does.
struct Fds {
    Fd readable, writer, silent, other;
    Fds()
    {
        int a[2], b[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == 0);
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) == 0);
        readable.reset(a[0]);
        writer.reset(a[1]);
        silent.reset(b[0]);
        other.reset(b[1]);
        BOOST_REQUIRE(::send(writer.get(), "x", 1, 0) == 1);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(activity)

BOOST_AUTO_TEST_CASE(idle_once_the_timeout_has_passed_since_the_last_touch)
{
    Fds f;
    fake_now = 10'000;
    Activity a(fake_clock);
    a.reset(5);
    fake_now = 14'999;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    fake_now = 15'000;
    // Checked before polling: even a ready descriptor does not hide idleness.
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::idle));
    BOOST_TEST((a.wait(f.silent.get(), POLLIN) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(a_touch_from_either_direction_restarts_the_clock)
{
    Fds f;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(5);
    fake_now = 4'000;
    a.touch(); // the other direction moved bytes
    fake_now = 8'999;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    fake_now = 9'000;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(no_timeout_means_never_idle)
{
    Fds f;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(0);
    fake_now = std::int64_t{1} << 50;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
}

BOOST_AUTO_TEST_CASE(reset_timeout_starts_the_clock_now_and_keeps_a_stop)
{
    Fds f;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(0);
    fake_now = 100'000; // connecting took long: not idleness
    a.reset_timeout(2);
    fake_now = 101'999;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    a.stop();
    a.reset_timeout(2);
    BOOST_TEST(a.stopping());
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::stopped));
    a.reset(2); // a new session
    BOOST_TEST(!a.stopping());
}

BOOST_AUTO_TEST_CASE(wait_until_is_bounded_by_its_deadline_not_the_idle_timeout)
{
    Fds f;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(1);
    fake_now = 5'000; // long past the idle timeout
    BOOST_TEST(a.now() == 5'000);
    BOOST_TEST((a.wait_until(f.readable.get(), POLLIN, 5'001) == Activity::Wait::ready));
    BOOST_TEST((a.wait_until(f.readable.get(), POLLIN, 5'000) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(a_waiting_direction_notices_the_time_passing)
{
    Fds f;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(1);
    fake_now = 999; // 1 ms left: the waiter polls in short steps and looks again
    auto waiter = std::async(std::launch::async, [&] { return a.wait(f.silent.get(), POLLIN); });
    fake_now = 1'000;
    BOOST_REQUIRE(waiter.wait_for(10s) == std::future_status::ready);
    BOOST_TEST((waiter.get() == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(the_real_clock_is_the_default)
{
    Activity a;
    const auto before = Activity::now_ms();
    const auto now = a.now();
    BOOST_TEST(now >= before);
    BOOST_TEST(now - before < 10'000);
}

namespace {

// A sender whose send queue is full: its peer reads nothing until told to.
struct Stalled {
    Fd sender, receiver;
    Stalled()
    {
        int p[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p) == 0);
        sender.reset(p[0]);
        receiver.reset(p[1]);
        char chunk[4096] = {};
        while (::send(sender.get(), chunk, sizeof chunk, MSG_DONTWAIT) > 0) {
        }
    }
    void peer_reads(std::size_t n)
    {
        char buf[4096];
        BOOST_REQUIRE(::recv(receiver.get(), buf, std::min(n, sizeof buf), MSG_DONTWAIT) > 0);
    }
};

struct AtTimeZero {
    AtTimeZero() { fake_now = 0; }
};

// A stalled sender watched with a 5 s timeout from fake time 0 (the base
// sets the clock before the Activity exists).
struct WatchedSender : AtTimeZero {
    Fds f;
    Stalled s;
    Activity a{fake_clock};
    WatchedSender()
    {
        a.reset(5);
        a.watch(s.sender.get(), -1);
    }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_peer_draining_the_send_queue_is_activity_at_the_deadline, WatchedSender)
{
    // The settle step takes the first reading (watch() takes none).
    fake_now = 250;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    // No byte moved by us for the whole timeout, but the peer read from our queue.
    s.peer_reads(4096);
    fake_now = 5'000;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    // The clock restarted at the deadline: nothing moves any more, idle one timeout later.
    fake_now = 9'999;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::ready));
    fake_now = 10'000;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(a_peer_that_stops_reading_is_idle_after_the_timeout)
{
    Fds f;
    Stalled s;
    fake_now = 0;
    Activity a(fake_clock);
    a.reset(5);
    a.watch(s.sender.get(), f.silent.get());
    fake_now = 5'000;
    BOOST_TEST((a.wait(s.sender.get(), POLLOUT) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_CASE(wire_moved_reports_each_change_once)
{
    Stalled s;
    Activity a(fake_clock);
    a.reset(5);
    a.watch(s.sender.get(), -1);
    BOOST_TEST(!a.wire_moved());
    s.peer_reads(4096);
    BOOST_TEST(a.wire_moved());
    BOOST_TEST(!a.wire_moved());
}

BOOST_AUTO_TEST_CASE(watch_reads_no_counters_the_first_reading_comes_later)
{
    Stalled s;
    Activity a(fake_clock);
    a.reset(5);
    a.watch(s.sender.get(), -1);
    // Had watch() read the counters, this would count as movement.
    s.peer_reads(4096);
    BOOST_TEST(!a.wire_moved()); // the first reading: a baseline only
    s.peer_reads(4096);
    BOOST_TEST(a.wire_moved());
}

BOOST_FIXTURE_TEST_CASE(a_deadline_before_any_reading_is_idle, WatchedSender)
{
    // Neither direction waited at the settle time: the deadline's reading is
    // the first, and nothing is known to have moved since our last byte.
    fake_now = 5'000;
    BOOST_TEST((a.wait(f.readable.get(), POLLIN) == Activity::Wait::idle));
}

BOOST_AUTO_TEST_SUITE_END()
