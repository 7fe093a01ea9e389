// Gate: the pool's and the reaper's wake-up (no lost or spurious passes).
#include "tcpproxy/core/gate.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/prctl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

// PR_FUTEX_HASH / PR_FUTEX_HASH_GET_SLOTS (Linux 6.17+); -1 on older kernels.
long futex_hash_buckets() { return ::prctl(78, 2UL, 0UL, 0UL, 0UL); }

boost::test_tools::assertion_result kernel_has_private_futex_hash(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result r(futex_hash_buckets() >= 0);
    r.message() << "the kernel has no private futex hash (before Linux 6.17): nothing to size";
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(gate)

BOOST_AUTO_TEST_CASE(opened_before_pass_lets_through_once)
{
    Gate g;
    g.open();
    g.open(); // binary: two opens still let one pass through
    g.pass();
    std::atomic<bool> passed{false};
    auto waiter = std::async(std::launch::async, [&] {
        g.pass();
        passed = true;
    });
    BOOST_CHECK(waiter.wait_for(100ms) == std::future_status::timeout);
    BOOST_CHECK(!passed);
    g.open();
    BOOST_REQUIRE(waiter.wait_for(10s) == std::future_status::ready);
    BOOST_CHECK(passed);
}

BOOST_AUTO_TEST_CASE(sleeping_waiter_is_woken)
{
    Gate g;
    std::atomic<bool> passed{false};
    auto waiter = std::async(std::launch::async, [&] {
        g.pass();
        passed = true;
    });
    // Whether or not the waiter sleeps yet, the open must reach it.
    std::this_thread::sleep_for(20ms);
    g.open();
    BOOST_REQUIRE(waiter.wait_for(10s) == std::future_status::ready);
    BOOST_CHECK(passed);
}

BOOST_AUTO_TEST_CASE(ping_pong_loses_no_wake_up)
{
    // Two threads hand over to each other: a lost wake-up hangs, caught by the deadline.
    Gate ping, pong;
    constexpr int rounds = 20000;
    auto other = std::async(std::launch::async, [&] {
        for (int i = 0; i < rounds; ++i) {
            ping.pass();
            pong.open();
        }
    });
    auto self = std::async(std::launch::async, [&] {
        for (int i = 0; i < rounds; ++i) {
            ping.open();
            pong.pass();
        }
    });
    BOOST_REQUIRE(self.wait_for(60s) == std::future_status::ready);
    BOOST_REQUIRE(other.wait_for(60s) == std::future_status::ready);
}

BOOST_AUTO_TEST_CASE(expecting_waiters_grows_the_private_futex_hash,
                     *boost::unit_test::precondition(kernel_has_private_futex_hash))
{
    // Threads make the kernel give the process a private hash of its own size.
    std::array<Gate, 4> gates;
    std::vector<std::thread> idle;
    for (auto& g : gates)
        idle.emplace_back([&g] { g.pass(); });
    Gate::expect_waiters(5000);
    const long buckets = futex_hash_buckets();
    BOOST_TEST(buckets >= 10000, "buckets for 5,000 waiters: " << buckets);
    // Never shrunk: a smaller expectation leaves it as it is.
    Gate::expect_waiters(10);
    BOOST_TEST(futex_hash_buckets() == buckets);
    for (auto& g : gates)
        g.open();
    for (auto& t : idle)
        t.join();
}

BOOST_AUTO_TEST_SUITE_END()
