// Gate: the pool's and the reaper's wake-up (no lost or spurious passes).
#include "tcpproxy/core/gate.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace tcpproxy;
using namespace std::chrono_literals;

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

BOOST_AUTO_TEST_SUITE_END()
