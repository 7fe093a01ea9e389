// The --status totals line (tcpproxy/metrics/totals.hpp).
#include "tcpproxy/metrics/totals.hpp"

#include "tcpproxy/net/socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace tcpproxy::metrics {

namespace {

bool family_is(std::string_view line, std::string_view name)
{
    return line.starts_with(name) && line.size() > name.size() &&
           (line[name.size()] == '{' || line[name.size()] == ' ');
}

std::int64_t steady_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

Totals totals_of(std::string_view text)
{
    Totals t;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == '#')
            continue;
        const auto space = line.rfind(' ');
        if (space == std::string_view::npos)
            continue;
        const double v = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
        const auto n = static_cast<std::uint64_t>(v);
        if (family_is(line, "tcpproxy_sessions_started_total"))
            t.sessions_started += n;
        else if (family_is(line, "tcpproxy_sessions_total")) {
            t.sessions_ended += n;
            if (line.find("status=\"ok\"") == std::string_view::npos)
                t.failed += n;
        } else if (family_is(line, "tcpproxy_bytes_total")) {
            if (line.find("direction=\"client_to_server\"") != std::string_view::npos)
                t.bytes_client += n;
            else
                t.bytes_server += n;
        }
    }
    return t;
}

std::string describe(const Totals& t)
{
    return "totals: " + std::to_string(t.sessions_started) + " sessions (" + std::to_string(t.sessions_ended) +
           " ended, " + std::to_string(t.failed) + " not OK), " + std::to_string(t.bytes_client) +
           " bytes from clients, " + std::to_string(t.bytes_server) + " bytes from servers";
}

Result<std::string> fetch(const Endpoint& where, int timeout_ms)
{
    Endpoint to = where;
    if (to.ip == *IpAddress::parse_v6("::"))
        to.ip = *IpAddress::parse_v4("127.0.0.1");
    const auto deadline = steady_ms() + timeout_ms;
    auto wait = [&](int fd, short events) {
        pollfd p{fd, events, 0};
        const auto left = deadline - steady_ms();
        return left > 0 && ::poll(&p, 1, static_cast<int>(left)) > 0;
    };
    try {
        Fd fd = tcp_socket_for(to.ip);
        sockaddr_storage ss{};
        const auto len = to.to_sockaddr(ss);
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
            if (errno != EINPROGRESS)
                return fail(errno_text("connect(" + to.str() + ")"));
            int err = 0;
            socklen_t elen = sizeof err;
            if (!wait(fd.get(), POLLOUT))
                return fail("connect(" + to.str() + "): timed out");
            ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
            if (err)
                return fail(errno_text("connect(" + to.str() + ")", err));
        }
        const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
        if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
            return fail(errno_text("send(" + to.str() + ")"));
        std::string answer;
        char buf[8192];
        for (;;) {
            if (!wait(fd.get(), POLLIN))
                return fail("no answer from " + to.str() + " in time");
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0)
                return fail(errno_text("recv(" + to.str() + ")"));
            if (n == 0)
                break;
            answer.append(buf, static_cast<std::size_t>(n));
        }
        if (!answer.starts_with("HTTP/1.1 200 "))
            return fail(to.str() + " did not answer 200 (not allowed by metrics-acl?)");
        const auto body = answer.find("\r\n\r\n");
        return body == std::string::npos ? std::string() : answer.substr(body + 4);
    } catch (const std::system_error& e) {
        return fail(e.what());
    }
}

} // namespace tcpproxy::metrics
