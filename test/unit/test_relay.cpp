// One relay direction (session/relay.cpp) on real sockets: half-close and
// reset propagation, short and bulk splices, the read/write fallback when a
// descriptor cannot be spliced, the idle timeout and a stop. Each direction
// runs on a thread of its own, as in a session; every wait is bounded.
#include "session/relay.hpp"
#include "session_threads.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/net/socket.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

constexpr int deadline_ms = 10000; // bounds every wait of these tests

std::atomic<std::int64_t> fake_now{0};
std::int64_t fake_clock() noexcept { return fake_now.load(); }

// A connected TCP pair on loopback: {ours, theirs}.
std::pair<Fd, Fd> tcp_pair()
{
    Fd listening = listen_on(Endpoint{*IpAddress::parse("127.0.0.1"), 0}, true, 1);
    const auto where = local_endpoint(listening.get());
    Fd theirs(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(theirs);
    sockaddr_storage ss{};
    const auto len = where.to_sockaddr(ss);
    BOOST_REQUIRE(::connect(theirs.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0);
    Fd ours(::accept4(listening.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    BOOST_REQUIRE(ours);
    return {std::move(ours), std::move(theirs)};
}

bool wait_for(int fd, short events)
{
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, deadline_ms) == 1;
}

void send_all(int fd, const std::string& s)
{
    BOOST_REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
}

// Reads exactly n bytes (the peer's blocking socket), or fewer at end of stream.
std::string read_n(int fd, std::size_t n)
{
    std::string out;
    char buf[65536];
    while (out.size() < n) {
        BOOST_REQUIRE_MESSAGE(wait_for(fd, POLLIN), "nothing to read within the deadline");
        const ssize_t m = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
        BOOST_REQUIRE(m >= 0);
        if (m == 0)
            break;
        out.append(buf, static_cast<std::size_t>(m));
    }
    return out;
}

bool at_end_of_stream(int fd)
{
    char c;
    return wait_for(fd, POLLIN) && ::recv(fd, &c, 1, 0) == 0;
}

// One direction on its own thread.
class RelayThread {
public:
    RelayThread(int from, int to, Activity& activity) : activity_(activity)
    {
        test::prepare_wake_signal();
        std::promise<pthread_t> started;
        auto self = started.get_future();
        thread_ = std::thread([this, from, to, &activity, started = std::move(started)]() mutable {
            test::block_wake_signal();
            started.set_value(::pthread_self());
            outcome_.set_value(relay(from, to, activity, bytes_));
        });
        handle_ = self.get();
        result_ = outcome_.get_future();
    }
    ~RelayThread()
    {
        if (running()) { // a failed check left it waiting
            activity_.stop();
            wake();
        }
        thread_.join();
    }

    // The outcome, once the direction has ended (within the deadline).
    RelayOutcome outcome()
    {
        BOOST_REQUIRE_MESSAGE(result_.wait_for(std::chrono::milliseconds(deadline_ms)) == std::future_status::ready,
                              "the relay did not end");
        return result_.get();
    }
    bool running() { return result_.valid() && result_.wait_for(0ms) == std::future_status::timeout; }
    void wake() { wake::wake(handle_); }
    std::uint64_t bytes() const { return bytes_; } // after outcome()

private:
    Activity& activity_;
    std::promise<RelayOutcome> outcome_;
    std::future<RelayOutcome> result_;
    std::uint64_t bytes_ = 0;
    pthread_t handle_{};
    std::thread thread_;
};

// client peer <-> [client_side ... server_side] <-> server peer
struct Sockets {
    std::pair<Fd, Fd> client = tcp_pair(); // {ours, the client's}
    std::pair<Fd, Fd> server = tcp_pair(); // {ours, the server's}
    int from() const { return client.first.get(); }
    int to() const { return server.first.get(); }
    int client_peer() const { return client.second.get(); }
    int server_peer() const { return server.second.get(); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(relay_direction)

BOOST_AUTO_TEST_CASE(half_close_reaches_the_other_side_and_leaves_the_way_back_open)
{
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    send_all(s.client_peer(), "request");
    ::shutdown(s.client_peer(), SHUT_WR);
    BOOST_TEST(read_n(s.server_peer(), 7) == "request");
    BOOST_TEST(at_end_of_stream(s.server_peer()), "the server sees the client's FIN");
    const auto out = d.outcome();
    BOOST_TEST((out.kind == RelayOutcome::Kind::eof));
    BOOST_TEST(d.bytes() == 7u);
    // Only the write side was shut: the server can still answer.
    send_all(s.server_peer(), "reply");
    BOOST_TEST(read_n(s.to(), 5) == "reply");
}

BOOST_AUTO_TEST_CASE(a_reset_source_is_a_read_failure)
{
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    send_all(s.client_peer(), "x");
    BOOST_TEST(read_n(s.server_peer(), 1) == "x");
    set_linger_zero(s.client_peer());
    s.client.second.reset(); // RST
    const auto out = d.outcome();
    BOOST_TEST((out.kind == RelayOutcome::Kind::read_failed));
    BOOST_TEST(out.err == ECONNRESET);
}

BOOST_AUTO_TEST_CASE(a_reset_destination_is_a_write_failure)
{
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    set_linger_zero(s.server_peer());
    s.server.second.reset();                  // RST
    BOOST_REQUIRE(wait_for(s.to(), POLLERR)); // the reset has arrived
    send_all(s.client_peer(), "lost");
    const auto out = d.outcome();
    BOOST_TEST((out.kind == RelayOutcome::Kind::write_failed));
    BOOST_TEST((out.err == ECONNRESET || out.err == EPIPE), "err " << out.err);
}

BOOST_AUTO_TEST_CASE(short_splices_move_each_message_as_it_comes)
{
    // Each message is smaller than a short splice: the direction gives its
    // pipe back and waits again after each, and every message still arrives.
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    for (int i = 0; i < 20; ++i) {
        const std::string msg = "message " + std::to_string(i);
        send_all(s.client_peer(), msg);
        BOOST_TEST(read_n(s.server_peer(), msg.size()) == msg);
    }
    BOOST_TEST(d.running());
    ::shutdown(s.client_peer(), SHUT_WR);
    BOOST_TEST((d.outcome().kind == RelayOutcome::Kind::eof));
}

BOOST_AUTO_TEST_CASE(bulk_data_arrives_whole_and_in_order)
{
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    std::string data(4 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7 + i / 4096);
    std::thread writer([&] {
        Fd& peer = s.client.second;
        std::size_t off = 0;
        while (off < data.size()) {
            const ssize_t n = ::send(peer.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += static_cast<std::size_t>(n);
        }
        ::shutdown(peer.get(), SHUT_WR);
    });
    const std::string got = read_n(s.server_peer(), data.size());
    writer.join();
    BOOST_TEST(got.size() == data.size());
    BOOST_TEST((got == data));
    BOOST_TEST((d.outcome().kind == RelayOutcome::Kind::eof));
    BOOST_TEST(d.bytes() == data.size());
}

BOOST_AUTO_TEST_CASE(a_source_that_cannot_be_spliced_is_copied)
{
    // splice(2) refuses an eventfd (EINVAL): the direction falls back to
    // read/write for good. Reading an eventfd gives its 8-byte counter.
    Fd counter(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    BOOST_REQUIRE(counter);
    auto server = tcp_pair();
    Activity activity;
    activity.reset(0);
    RelayThread d(counter.get(), server.first.get(), activity);
    for (std::uint64_t v : {0x0102030405060708ull, 42ull}) {
        BOOST_REQUIRE(::write(counter.get(), &v, sizeof v) == sizeof v);
        const std::string got = read_n(server.second.get(), sizeof v);
        BOOST_REQUIRE(got.size() == sizeof v);
        std::uint64_t back = 0;
        std::memcpy(&back, got.data(), sizeof back);
        BOOST_TEST(back == v);
    }
    activity.stop();
    d.wake();
    BOOST_TEST((d.outcome().kind == RelayOutcome::Kind::stopped));
    BOOST_TEST(d.bytes() == 16u);
}

BOOST_AUTO_TEST_CASE(a_stop_wakes_a_waiting_direction)
{
    Sockets s;
    Activity activity;
    activity.reset(0);
    RelayThread d(s.from(), s.to(), activity);
    activity.stop();
    d.wake();
    BOOST_TEST((d.outcome().kind == RelayOutcome::Kind::stopped));
    BOOST_TEST(d.bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(the_idle_timeout_ends_a_silent_direction)
{
    Sockets s;
    fake_now = 1'000'000;
    Activity activity(fake_clock);
    activity.reset(1);
    fake_now += 999; // 1 ms left: the direction polls in short steps
    RelayThread d(s.from(), s.to(), activity);
    fake_now += 1;
    const auto out = d.outcome();
    BOOST_TEST((out.kind == RelayOutcome::Kind::idle));
}

BOOST_AUTO_TEST_SUITE_END()
