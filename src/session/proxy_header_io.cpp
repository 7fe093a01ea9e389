#include "proxy_header_io.hpp"

#include "tcpproxy/log/log.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace tcpproxy {

namespace pp = proxy_protocol;

ProxyHeaderRead read_proxy_header(int fd, const Activity& activity, std::int64_t deadline_ms)
{
    ProxyHeaderRead out;
    // Bytes taken off the socket so far: all of them belong to the header
    // (the parser said it needed more after seeing them).
    std::array<std::uint8_t, pp::max_header_length> buf{};
    std::size_t taken = 0;
    for (;;) {
        switch (activity.wait_until(fd, POLLIN, deadline_ms)) {
        case Activity::Wait::stopped:
            out.kind = ProxyHeaderRead::Kind::stopped;
            return out;
        case Activity::Wait::idle:
            out.error = taken ? "PROXY header incomplete after " + std::to_string(taken) + " bytes at the timeout"
                              : "no PROXY header before the timeout";
            return out;
        case Activity::Wait::ready:
            break;
        }
        // Peek first: what follows the header is payload and stays in the
        // socket for the relay (or the handler program, which reads the socket itself).
        const ssize_t n = ::recv(fd, buf.data() + taken, buf.size() - taken, MSG_PEEK);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            out.error = "PROXY header: " + log::syscall_failed("recv", errno);
            return out;
        }
        if (n == 0) {
            out.error = taken ? "connection closed inside the PROXY header" : "connection closed before a PROXY header";
            return out;
        }
        const std::size_t seen = taken + static_cast<std::size_t>(n);
        const auto r = pp::parse(std::span<const std::uint8_t>(buf.data(), seen));
        if (r.kind == pp::ParseResult::Kind::error) {
            out.error = "PROXY header: " + r.error;
            return out;
        }
        // need_more: consume everything peeked (all header) so that poll()
        // waits for new bytes instead of reporting these again.
        const std::size_t want = r.kind == pp::ParseResult::Kind::header ? r.header.length - taken
                                                                          : static_cast<std::size_t>(n);
        std::size_t got = 0;
        while (got < want) {
            const ssize_t m = ::recv(fd, buf.data() + taken + got, want - got, 0);
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0) { // the bytes were peeked: only a reset takes them away
                out.error = "PROXY header: " + (m < 0 ? log::syscall_failed("recv", errno) : "connection closed");
                return out;
            }
            got += static_cast<std::size_t>(m);
        }
        taken += want;
        if (r.kind == pp::ParseResult::Kind::header) {
            out.kind = ProxyHeaderRead::Kind::header;
            out.header = r.header;
            return out;
        }
    }
}

std::string send_proxy_header(int fd, const std::string& bytes, const Activity& activity, std::int64_t deadline_ms,
                              bool& stopped)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return "PROXY header: " + log::syscall_failed("send", errno);
        switch (activity.wait_until(fd, POLLOUT, deadline_ms)) {
        case Activity::Wait::stopped:
            stopped = true;
            return "stopped";
        case Activity::Wait::idle:
            return "PROXY header: send timed out";
        case Activity::Wait::ready:
            break;
        }
    }
    return {};
}

std::string take_client_proxy_header(SessionRecord& r, int client_fd, const Activity& activity)
{
    const auto& s = *r.service;
    const auto deadline = Activity::now_ms() + static_cast<std::int64_t>(s.connect_timeout()) * 1000;
    const auto got = read_proxy_header(client_fd, activity, deadline);
    switch (got.kind) {
    case ProxyHeaderRead::Kind::stopped:
        return "stopped";
    case ProxyHeaderRead::Kind::failed:
        return got.error + " (from " + r.client.str() + ")";
    case ProxyHeaderRead::Kind::header:
        break;
    }
    if (got.header.source)
        r.client = *got.header.source;
    return {};
}

std::string send_upstream_proxy_header(const SessionRecord& r, int server_fd, const Activity& activity, bool& stopped)
{
    const auto& s = *r.service;
    const auto deadline = Activity::now_ms() + static_cast<std::int64_t>(s.connect_timeout()) * 1000;
    return send_proxy_header(server_fd, proxy_protocol::encode(s.proxy_protocol, r.client, r.local), activity,
                             deadline, stopped);
}

} // namespace tcpproxy
