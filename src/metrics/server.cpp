// The metrics listener (tcpproxy/metrics/server.hpp): a minimal HTTP/1.x
// responder for GET /metrics, one connection at a time, each bounded in time.
// Hand-written rather than a library: Debian has no small, maintained HTTP
// server library for C++, and one request line, one answer and Connection:
// close is all a Prometheus scrape needs.
#include "tcpproxy/metrics/server.hpp"

#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/metrics/exposition.hpp"
#include "tcpproxy/net/socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace tcpproxy::metrics {

namespace {

constexpr int backlog = 16;
constexpr std::size_t max_request = 8192;
// A scraper sends its request at once and reads the answer at once: a slow
// or silent client gets this long in all, then the next one is served.
constexpr std::chrono::milliseconds client_time{2000};

std::int64_t steady_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int left_ms(std::int64_t deadline)
{
    const auto left = deadline - steady_ms();
    return left > 0 ? static_cast<int>(left) : 0;
}

std::string response(std::string_view status, std::string_view type, std::string_view body)
{
    std::string out = "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += type;
    out += "\r\nContent-Length: " + std::to_string(body.size());
    out += "\r\nConnection: close\r\n\r\n";
    out += body;
    return out;
}

} // namespace

Acl loopback_acl()
{
    return Acl{AclItem{true, *IpAddress::parse_v4("127.0.0.0"), 8}, AclItem{true, *IpAddress::parse_v6("::1"), 128}};
}

Server::Server(const Endpoint& where, Acl acl, std::string version)
    : where_(where), acl_(acl.empty() ? loopback_acl() : std::move(acl)), version_(std::move(version)),
      socket_(listen_on(where, false, backlog)) // false: `*` (::) takes IPv4 clients too
{
    set_nonblocking(socket_.get());
    thread_ = std::thread([this] { run(); });
}

Server::~Server()
{
    stopping_.store(true);
    if (thread_.joinable()) {
        wake::wake(thread_.native_handle());
        thread_.join();
    }
}

void Server::run()
{
    pollfd p{socket_.get(), POLLIN, 0};
    while (!stopping_.load()) {
        if (wake::poll(&p, 1, -1) < 0)
            continue; // woken by the destructor (EINTR): the loop condition ends it
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        Fd client(::accept4(socket_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!client) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                wake::poll(nullptr, 0, 100); // out of resources: the pending client stays readable
            continue;
        }
        const auto from = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&peer));
        if (!acl_allows(acl_, from.ip.unmapped()))
            continue; // closed without an answer
        serve(std::move(client));
    }
}

void Server::serve(Fd client)
{
    const auto deadline = steady_ms() + client_time.count();
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos) {
        if (request.size() > max_request || stopping_.load())
            return;
        pollfd p{client.get(), POLLIN, 0};
        const int left = left_ms(deadline);
        if (left == 0)
            return;
        if (wake::poll(&p, 1, left) <= 0)
            continue; // timed out (the deadline ends it) or woken
        const ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
        if (n == 0)
            return;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return;
        }
        request.append(buf, static_cast<std::size_t>(n));
    }
    const auto line_end = request.find_first_of("\r\n");
    const std::string_view line(request.data(), line_end);
    std::string answer;
    if (line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?"))
        answer = response("200 OK", content_type, render(counters().snapshot(), version_));
    else if (line.starts_with("GET "))
        answer = response("404 Not Found", "text/plain", "try /metrics\n");
    else
        answer = response("405 Method Not Allowed", "text/plain", "GET only\n");
    std::size_t sent = 0;
    while (sent < answer.size()) {
        const ssize_t n = ::send(client.get(), answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return;
        pollfd p{client.get(), POLLOUT, 0};
        const int left = left_ms(deadline);
        if (left == 0 || stopping_.load())
            return;
        wake::poll(&p, 1, left);
    }
}

} // namespace tcpproxy::metrics
