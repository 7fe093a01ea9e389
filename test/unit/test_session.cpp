// One session (session/session.cpp) from accept to its record, on loopback
// sockets: the stages of prepare() (section, PROXY header in and out, ACL,
// upstream with failover) and the end each one gives, then the relay and the
// thread-join protocol. The host runs the secondary direction on a thread of
// its own and hands the record over; every wait is bounded.
#include "session_threads.hpp"
#include "tcpproxy/net/socket.hpp"
#include "tcpproxy/session/session.hpp"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

constexpr int deadline_ms = 10000;
const IpAddress loopback = *IpAddress::parse("127.0.0.1");

Fd listening() { return listen_on(Endpoint{loopback, 0}, true, 8); }

std::uint16_t port_of(const Fd& fd) { return local_endpoint(fd.get()).port; }

Fd connect_to(std::uint16_t port)
{
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(fd);
    sockaddr_storage ss{};
    const auto len = Endpoint{loopback, port}.to_sockaddr(ss);
    BOOST_REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0);
    return fd;
}

Fd accept_from(const Fd& l, int flags = 0)
{
    pollfd p{l.get(), POLLIN, 0};
    BOOST_REQUIRE_MESSAGE(::poll(&p, 1, deadline_ms) == 1, "no connection within the deadline");
    Fd fd(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC | flags));
    BOOST_REQUIRE(fd);
    return fd;
}

void send_text(int fd, const std::string& s)
{
    BOOST_REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
}

std::string read_n(int fd, std::size_t n)
{
    std::string out;
    char buf[512];
    while (out.size() < n) {
        pollfd p{fd, POLLIN, 0};
        BOOST_REQUIRE_MESSAGE(::poll(&p, 1, deadline_ms) == 1, "nothing to read within the deadline");
        const ssize_t m = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
        if (m <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(m));
    }
    return out;
}

bool at_end_of_stream(int fd)
{
    pollfd p{fd, POLLIN, 0};
    char c;
    return ::poll(&p, 1, deadline_ms) == 1 && ::recv(fd, &c, 1, 0) <= 0;
}

class Host : public SessionHost {
public:
    void start_secondary(Session& s) override
    {
        secondary_ = std::thread([&s] {
            test::block_wake_signal();
            s.run_secondary();
        });
    }
    void finished(Session&, SessionRecord&& record) override { done_.set_value(std::move(record)); }

    SessionRecord record()
    {
        BOOST_REQUIRE_MESSAGE(result_.wait_for(std::chrono::milliseconds(deadline_ms)) == std::future_status::ready,
                              "the session did not end");
        return result_.get();
    }
    ~Host()
    {
        if (secondary_.joinable())
            secondary_.join();
    }

private:
    std::promise<SessionRecord> done_;
    std::future<SessionRecord> result_ = done_.get_future();
    std::thread secondary_;
};

// The proxy's listening port, one section on it, an upstream server.
struct Fixture {
    Fd proxy = listening();
    Fd upstream = listening();
    Service service;
    Config config;
    Reaper reaper{Reaper::Mode::inline_, 1};
    Host host;
    Session session{host, reaper, 1};
    std::thread primary;

    Fixture()
    {
        test::prepare_wake_signal();
        service.servers.push_back(Upstream{"127.0.0.1", port_of(upstream), "127.0.0.1"});
        config.resolve_names = false;
    }
    ~Fixture()
    {
        if (primary.joinable()) {
            session.stop(Status::proxy, "test over"); // a failed check left it running
            primary.join();
        }
    }

    // Connects a client and runs the session on it; returns the client's socket.
    Fd start(std::uint16_t section_port = 0)
    {
        PortConfig p;
        p.port = section_port ? section_port : port_of(proxy);
        p.services.push_back(service);
        config.ports.push_back(p);
        Fd client = connect_to(port_of(proxy));
        session.assign(SessionStart{accept_from(proxy, SOCK_NONBLOCK), std::make_shared<const Config>(config), 7});
        primary = std::thread([this] {
            test::block_wake_signal();
            session.run_primary();
        });
        return client;
    }

    SessionRecord record()
    {
        auto r = host.record();
        primary.join();
        return r;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(session, Fixture)

BOOST_AUTO_TEST_CASE(relays_both_ways_and_ends_ok_when_both_sides_close)
{
    Fd client = start();
    Fd server = accept_from(upstream);
    send_text(client.get(), "ping");
    BOOST_TEST(read_n(server.get(), 4) == "ping");
    send_text(server.get(), "pong!");
    BOOST_TEST(read_n(client.get(), 5) == "pong!");
    ::shutdown(client.get(), SHUT_WR);
    BOOST_TEST(at_end_of_stream(server.get()));
    server.reset();
    BOOST_TEST(at_end_of_stream(client.get()));
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "OK");
    BOOST_TEST(r.reason == "");
    BOOST_TEST(r.id == 7u);
    BOOST_TEST(r.bytes_client == 4u);
    BOOST_TEST(r.bytes_server == 5u);
    BOOST_REQUIRE(r.server);
    BOOST_TEST(r.server->str() == (Endpoint{loopback, port_of(upstream)}.str()));
    BOOST_TEST(r.client_name == "127.0.0.1");
    BOOST_TEST(r.local.port == port_of(proxy));
}

BOOST_AUTO_TEST_CASE(no_section_for_the_local_address_is_access)
{
    Fd client = start(1); // the only section is for another port
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "ACCESS");
    BOOST_TEST(r.reason == "no section for 127.0.0.1:" + std::to_string(port_of(proxy)));
    BOOST_TEST(at_end_of_stream(client.get()));
}

BOOST_AUTO_TEST_CASE(a_client_the_acl_denies_is_access_before_any_connection)
{
    service.acl.push_back(AclItem{false, *IpAddress::parse("0.0.0.0"), 0});
    Fd client = start();
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "ACCESS");
    BOOST_TEST(r.reason == "client 127.0.0.1 denied by the ACL");
    pollfd p{upstream.get(), POLLIN, 0};
    BOOST_TEST(::poll(&p, 1, 0) == 0, "the upstream was not contacted");
}

BOOST_AUTO_TEST_CASE(a_failed_server_is_a_warning_when_the_next_one_answers)
{
    Fd refusing = bind_on(Endpoint{loopback, 0}, true); // bound, not listening: connect is refused
    service.servers.insert(service.servers.begin(), Upstream{"127.0.0.1", port_of(refusing), "dead"});
    Fd client = start();
    Fd server = accept_from(upstream);
    client.reset();
    BOOST_TEST(at_end_of_stream(server.get()));
    server.reset();
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "WARNING");
    BOOST_TEST(r.reason == "1 server(s) failed");
}

BOOST_AUTO_TEST_CASE(no_server_reached_is_connect_with_the_last_failure)
{
    Fd refusing = bind_on(Endpoint{loopback, 0}, true);
    service.servers = {Upstream{"127.0.0.1", port_of(refusing), "dead"}};
    Fd client = start();
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "CONNECT");
    BOOST_TEST(r.reason == "server 127.0.0.1:" + std::to_string(port_of(refusing)) + ": connect: Connection refused");
}

BOOST_AUTO_TEST_CASE(a_stop_ends_a_running_session_with_its_status)
{
    Fd client = start();
    Fd server = accept_from(upstream);
    send_text(client.get(), "x");
    BOOST_TEST(read_n(server.get(), 1) == "x"); // relaying: both directions wait
    session.stop(Status::proxy, "proxy shutting down");
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "PROXY");
    BOOST_TEST(r.reason == "proxy shutting down");
    BOOST_TEST(at_end_of_stream(client.get()));
    BOOST_TEST(at_end_of_stream(server.get()));
}

BOOST_AUTO_TEST_CASE(a_reset_client_resets_the_server_side)
{
    Fd client = start();
    Fd server = accept_from(upstream);
    send_text(client.get(), "x");
    BOOST_TEST(read_n(server.get(), 1) == "x");
    set_linger_zero(client.get());
    client.reset(); // RST
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "CLIENT");
    BOOST_TEST(r.reason.starts_with("client->server: client: read: "), r.reason);
    char c;
    pollfd p{server.get(), POLLIN, 0};
    BOOST_REQUIRE(::poll(&p, 1, deadline_ms) == 1);
    BOOST_TEST(::recv(server.get(), &c, 1, 0) < 0, "the server gets a reset, not a FIN");
    BOOST_TEST(errno == ECONNRESET);
}

BOOST_AUTO_TEST_CASE(proxy_protocol_names_the_client_to_the_server)
{
    service.proxy_protocol = 1;
    Fd client = start();
    Fd server = accept_from(upstream);
    const auto me = local_endpoint(client.get());
    const std::string header =
        "PROXY TCP4 127.0.0.1 127.0.0.1 " + std::to_string(me.port) + " " + std::to_string(port_of(proxy)) + "\r\n";
    BOOST_TEST(read_n(server.get(), header.size()) == header);
    client.reset();
    server.reset();
    BOOST_TEST(status_name(record().status) == "OK");
}

BOOST_AUTO_TEST_CASE(accept_proxy_takes_the_client_from_the_header)
{
    service.accept_proxy = true;
    Fd client = start();
    send_text(client.get(), "PROXY TCP4 192.0.2.1 127.0.0.1 4242 80\r\nhello");
    Fd server = accept_from(upstream);
    BOOST_TEST(read_n(server.get(), 5) == "hello", "what follows the header is payload");
    client.reset();
    server.reset();
    const auto r = record();
    BOOST_TEST(r.client.str() == "192.0.2.1:4242");
    BOOST_TEST(r.client_name == "192.0.2.1");
}

BOOST_AUTO_TEST_CASE(accept_proxy_refuses_a_bad_header)
{
    service.accept_proxy = true;
    Fd client = start();
    send_text(client.get(), "GET / HTTP/1.0\r\n\r\n");
    const auto r = record();
    BOOST_TEST(status_name(r.status) == "ACCESS");
    BOOST_TEST(r.reason.starts_with("PROXY header: "), r.reason);
    BOOST_TEST(r.reason.ends_with("(from " + local_endpoint(client.get()).str() + ")"), r.reason);
}

BOOST_AUTO_TEST_SUITE_END()
