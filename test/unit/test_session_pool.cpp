// The session pool (server/session_pool.cpp): a slot is reserved, launched,
// and comes back when its session finishes; never more than the limit are
// out at once; the limit shrinks and grows. The sessions launched here end at
// once (a configuration without ports: no section, ACCESS), so a slot's
// return is what the test waits for, each wait bounded.
#include "server/session_pool.hpp"
#include "session_threads.hpp"
#include "tcpproxy/net/socket.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t stack_bytes = 1 << 20; // not under test: room for sanitizers

// Long enough to see that a reserve() is held back, short enough for a unit test.
constexpr auto held_back = 100ms;
constexpr auto deadline = 10s;

ConfigPtr no_ports()
{
    auto c = std::make_shared<Config>();
    c->resolve_names = false;
    return c;
}

// A session that ends at once: a connected client, a configuration without a section for it.
SessionStart start(Reaper& reaper)
{
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    ::close(sv[1]); // the client is gone by the time the session looks: it ends at once either way
    return SessionStart{Fd(sv[0]), no_ports(), reaper.next_session_id()};
}

std::future<SessionPool::Slot*> reserve_async(SessionPool& pool, const std::atomic<bool>& cancelled)
{
    return std::async(std::launch::async, [&pool, &cancelled] { return pool.reserve(cancelled); });
}

struct Fixture {
    Reaper reaper{Reaper::Mode::inline_, 1};
    std::atomic<bool> never{false};
};

} // namespace

BOOST_AUTO_TEST_SUITE(session_pool)

BOOST_FIXTURE_TEST_CASE(a_finished_slot_is_reused, Fixture)
{
    SessionPool pool(1, stack_bytes, reaper, 1);
    BOOST_TEST(pool.size() == 1u);
    auto* first = pool.reserve(never);
    BOOST_REQUIRE(first);
    pool.launch(first, start(reaper));
    // The only slot comes back once its session has finished.
    for (int i = 0; i < 20; ++i) {
        auto next = reserve_async(pool, never);
        BOOST_REQUIRE(next.wait_for(deadline) == std::future_status::ready);
        auto* slot = next.get();
        BOOST_TEST(slot == first);
        pool.launch(slot, start(reaper));
    }
    auto last = reserve_async(pool, never);
    BOOST_REQUIRE(last.wait_for(deadline) == std::future_status::ready);
    pool.unreserve(last.get());
}

BOOST_FIXTURE_TEST_CASE(the_limit_is_never_exceeded, Fixture)
{
    SessionPool pool(2, stack_bytes, reaper, 1);
    auto* a = pool.reserve(never);
    auto* b = pool.reserve(never);
    BOOST_REQUIRE(a);
    BOOST_REQUIRE(b);
    BOOST_TEST(a != b);
    auto third = reserve_async(pool, never);
    BOOST_TEST((third.wait_for(held_back) == std::future_status::timeout), "a third slot while two are out");
    pool.unreserve(a);
    BOOST_REQUIRE(third.wait_for(deadline) == std::future_status::ready);
    BOOST_TEST(third.get() == a);
    // A launched session's slot comes back the same way.
    pool.launch(b, start(reaper));
    auto fourth = reserve_async(pool, never);
    BOOST_REQUIRE(fourth.wait_for(deadline) == std::future_status::ready);
    BOOST_TEST(fourth.get() == b);
    pool.unreserve(a);
    pool.unreserve(b);
}

BOOST_FIXTURE_TEST_CASE(shrinking_holds_new_sessions_back_and_growing_lets_them_in, Fixture)
{
    SessionPool pool(3, stack_bytes, reaper, 1);
    BOOST_TEST(pool.resize(1) == 1u);
    BOOST_TEST(pool.size() == 1u);
    auto* a = pool.reserve(never);
    BOOST_REQUIRE(a);
    auto waiting = reserve_async(pool, never);
    BOOST_TEST((waiting.wait_for(held_back) == std::future_status::timeout), "over the lowered limit");
    // Growing past the slots there are creates more; the waiter gets one at once.
    BOOST_TEST(pool.resize(4) == 4u);
    BOOST_TEST(pool.size() == 4u);
    BOOST_REQUIRE(waiting.wait_for(deadline) == std::future_status::ready);
    auto* b = waiting.get();
    auto* c = pool.reserve(never);
    auto* d = pool.reserve(never);
    BOOST_REQUIRE(b);
    BOOST_REQUIRE(c);
    BOOST_REQUIRE(d);
    BOOST_TEST((a != b && a != c && a != d && b != c && b != d && c != d));
    auto fifth = reserve_async(pool, never);
    BOOST_TEST((fifth.wait_for(held_back) == std::future_status::timeout), "a fifth slot under a limit of 4");
    pool.unreserve(d);
    BOOST_REQUIRE(fifth.wait_for(deadline) == std::future_status::ready);
    BOOST_TEST(fifth.get() == d);
    for (auto* s : {a, b, c, d})
        pool.unreserve(s);
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_reserve_returns_no_slot, Fixture)
{
    SessionPool pool(1, stack_bytes, reaper, 1);
    auto* a = pool.reserve(never);
    BOOST_REQUIRE(a);
    std::atomic<bool> cancelled{false};
    auto waiting = reserve_async(pool, cancelled);
    BOOST_TEST((waiting.wait_for(held_back) == std::future_status::timeout));
    cancelled = true;
    pool.wake_waiters();
    BOOST_REQUIRE(waiting.wait_for(deadline) == std::future_status::ready);
    BOOST_TEST(waiting.get() == nullptr);
    pool.unreserve(a);
}

BOOST_FIXTURE_TEST_CASE(stopping_with_no_session_running_is_immediate, Fixture)
{
    SessionPool pool(2, stack_bytes, reaper, 1);
    BOOST_TEST(pool.stop_sessions(Status::proxy, "test", 0ms));
}

BOOST_FIXTURE_TEST_CASE(slots_are_made_on_first_use_and_kept, Fixture)
{
    // A capacity far beyond what is used: only the prestarted slots exist.
    SessionPool pool(8200, stack_bytes, reaper, 1, 2);
    BOOST_TEST(pool.size() == 8200u);
    BOOST_TEST(pool.made() == 2u);
    std::vector<SessionPool::Slot*> out;
    for (int i = 0; i < 5; ++i) {
        auto* s = pool.reserve(never);
        BOOST_REQUIRE(s);
        out.push_back(s);
    }
    BOOST_TEST(pool.made() == 5u, "one slot made per reserve beyond the free ones");
    for (auto* s : out)
        pool.unreserve(s);
    // Reused, most recently freed first; nothing more is made.
    for (int i = 0; i < 3; ++i) {
        auto* s = pool.reserve(never);
        BOOST_TEST(s == out.back());
        pool.unreserve(s);
        BOOST_TEST(pool.reserve(never) == s, "the slot just freed goes first");
        pool.unreserve(s);
    }
    BOOST_TEST(pool.made() == 5u);
    // Serving a session makes no slot either.
    auto* first = pool.reserve(never);
    BOOST_REQUIRE(first);
    pool.launch(first, start(reaper));
    auto next = reserve_async(pool, never);
    BOOST_REQUIRE(next.wait_for(deadline) == std::future_status::ready);
    auto* s = next.get();
    BOOST_REQUIRE(s);
    pool.unreserve(s);
    BOOST_TEST(pool.made() == 5u);
}

BOOST_FIXTURE_TEST_CASE(never_more_slots_than_the_capacity, Fixture)
{
    SessionPool pool(3, stack_bytes, reaper, 1, 8);
    BOOST_TEST(pool.made() == 3u, "the prestart is capped by the capacity");
    auto* a = pool.reserve(never);
    auto* b = pool.reserve(never);
    auto* c = pool.reserve(never);
    BOOST_REQUIRE((a && b && c));
    auto fourth = reserve_async(pool, never);
    BOOST_TEST((fourth.wait_for(held_back) == std::future_status::timeout), "a fourth slot under a capacity of 3");
    BOOST_TEST(pool.made() == 3u);
    pool.unreserve(b);
    BOOST_REQUIRE(fourth.wait_for(deadline) == std::future_status::ready);
    BOOST_TEST(fourth.get() == b);
    // Lowered, then raised: slots are made again only past the ones there are.
    BOOST_TEST(pool.resize(1) == 1u);
    pool.unreserve(a);
    pool.unreserve(b);
    pool.unreserve(c);
    BOOST_TEST(pool.resize(5) == 5u);
    std::vector<SessionPool::Slot*> out;
    for (int i = 0; i < 5; ++i) {
        auto* s = pool.reserve(never);
        BOOST_REQUIRE(s);
        out.push_back(s);
    }
    BOOST_TEST(pool.made() == 5u);
    for (auto* s : out)
        pool.unreserve(s);
}

BOOST_FIXTURE_TEST_CASE(a_pool_with_no_prestart_makes_its_first_slot_on_demand, Fixture)
{
    SessionPool pool(4, stack_bytes, reaper, 1, 0);
    BOOST_TEST(pool.made() == 0u);
    auto* a = pool.reserve(never);
    BOOST_REQUIRE(a);
    BOOST_TEST(pool.made() == 1u);
    pool.launch(a, start(reaper));
    auto next = reserve_async(pool, never);
    BOOST_REQUIRE(next.wait_for(deadline) == std::future_status::ready);
    pool.unreserve(next.get());
}

namespace {

// Runs one relaying session on a one-slot pool made with `release_above`,
// after touching the lowest page of its primary's stack as a deep setup
// would; whether that page is still resident once the relay runs.
bool deep_page_kept(Reaper& reaper, const std::atomic<bool>& never, std::size_t release_above)
{
    test::prepare_wake_signal();
    test::block_wake_signal(); // the pool's threads inherit it, as the daemon's do
    const IpAddress lo = *IpAddress::parse("127.0.0.1");
    Fd proxy = listen_on(Endpoint{lo, 0}, true, 8), upstream = listen_on(Endpoint{lo, 0}, true, 8);
    auto config = std::make_shared<Config>();
    config->resolve_names = false;
    Service service;
    service.servers.push_back(Upstream{"127.0.0.1", local_endpoint(upstream.get()).port, "127.0.0.1"});
    PortConfig port;
    port.port = local_endpoint(proxy.get()).port;
    port.services.push_back(service);
    config->ports.push_back(port);

    SessionPool pool(1, 64 * 1024, reaper, 1, SessionPool::default_prestart, release_above);
    auto* slot = pool.reserve(never);
    BOOST_REQUIRE(slot);
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!slot->primary_stack_low.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::yield();
    char* const low = slot->primary_stack_low.load();
    BOOST_REQUIRE(low);
    // The parked primary never reaches its stack's lowest page.
    *static_cast<volatile char*>(low) = 1;
    const long page = ::sysconf(_SC_PAGESIZE);
    auto resident = [&] {
        unsigned char v = 0;
        BOOST_REQUIRE(::mincore(low, static_cast<std::size_t>(page), &v) == 0);
        return (v & 1) != 0;
    };
    BOOST_REQUIRE(resident());

    Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss{};
    const auto len = local_endpoint(proxy.get()).to_sockaddr(ss);
    BOOST_REQUIRE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0);
    Fd accepted(::accept4(proxy.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    BOOST_REQUIRE(accepted);
    pool.launch(slot, SessionStart{std::move(accepted), config, reaper.next_session_id()});
    pollfd p{upstream.get(), POLLIN, 0};
    BOOST_REQUIRE(::poll(&p, 1, 10'000) == 1);
    Fd server(::accept4(upstream.get(), nullptr, nullptr, SOCK_CLOEXEC));
    BOOST_REQUIRE(server);
    // A byte from the client reaching the server: the primary is relaying.
    BOOST_REQUIRE(::send(client.get(), "x", 1, MSG_NOSIGNAL) == 1);
    char c = 0;
    pollfd q{server.get(), POLLIN, 0};
    BOOST_REQUIRE(::poll(&q, 1, 10'000) == 1);
    BOOST_REQUIRE(::recv(server.get(), &c, 1, 0) == 1);
    const bool kept = resident();
    BOOST_TEST(pool.stop_sessions(Status::proxy, "test over", deadline));
    return kept;
}

} // namespace

// A held session keeps only the stack its relay needs: the deeper pages the
// setup may have touched are given back when the relay starts...
BOOST_FIXTURE_TEST_CASE(a_relaying_primary_gives_back_its_deep_stack_pages, Fixture)
{
    BOOST_TEST(!deep_page_kept(reaper, never, 0));
}

// ...when many sessions run at once; with few, the system call is saved.
BOOST_FIXTURE_TEST_CASE(with_few_sessions_the_deep_stack_pages_stay, Fixture)
{
    BOOST_TEST(deep_page_kept(reaper, never, SessionPool::default_release_above));
}

BOOST_AUTO_TEST_SUITE_END()
