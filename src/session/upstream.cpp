#include "upstream.hpp"

#include "tcpproxy/config/dispatch.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/net/socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace tcpproxy {

namespace {

std::atomic<std::uint64_t> rotation{0};

// The host's addresses: an IP literal as is, a name through the resolver.
Result<std::vector<IpAddress>> resolve(const std::string& host)
{
    if (auto ip = IpAddress::parse(host))
        return std::vector<IpAddress>{*ip};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0)
        return fail("getaddrinfo(" + host + "): " + ::gai_strerror(rc)); // not errno: the resolver's own codes
    std::vector<IpAddress> out;
    for (auto* a = res; a; a = a->ai_next) {
        const auto ip = Endpoint::from_sockaddr(a->ai_addr).ip;
        if (std::find(out.begin(), out.end(), ip) == out.end())
            out.push_back(ip);
    }
    ::freeaddrinfo(res);
    return out;
}

std::optional<IpAddress> source_for(const Service& s)
{
    if (s.rotate)
        return rotate_address(s.rotate->first, s.rotate->second, rotation.fetch_add(1, std::memory_order_relaxed));
    return s.srcip;
}

// One attempt: the connected socket, or why not.
Result<Fd> attempt(const Endpoint& to, const std::optional<IpAddress>& source, const Activity& activity,
                   std::int64_t deadline_ms)
{
    Fd fd = tcp_socket_for(to.ip);
    if (source) {
        const int one = 1;
        // Let connect() pick the port together with the destination, so a
        // busy source address does not run out of ephemeral ports at bind().
        ::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_storage ss{};
        const auto len = Endpoint{*source, 0}.to_sockaddr(ss);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) < 0)
            return fail(errno_text("bind(" + source->str() + ")"));
    }
    sockaddr_storage ss{};
    const auto len = to.to_sockaddr(ss);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR)
        return fail(errno_text("connect"));
    short revents = 0;
    switch (activity.wait_until(fd.get(), POLLOUT, deadline_ms, &revents)) {
    case Activity::Wait::stopped:
        return fail("stopped");
    case Activity::Wait::idle:
        return fail("connect: timed out");
    case Activity::Wait::ready:
        break;
    }
    // A failed connect always shows POLLERR or POLLHUP (tcp_poll): writable
    // without them is connected, and the SO_ERROR call is saved.
    if (!(revents & (POLLERR | POLLHUP)))
        return fd;
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err != 0)
        return fail(errno_text("connect", err));
    return fd;
}

UpstreamConnection reached(const Service& service, Fd fd, const Endpoint& to, std::string name)
{
    UpstreamConnection u;
    u.fd = std::move(fd);
    u.server = to;
    u.server_name = std::move(name);
    if (service.extended_info)
        u.outgoing = local_endpoint(u.fd.get());
    return u;
}

std::int64_t connect_deadline(const Service& service, const Activity& activity)
{
    return activity.now() + static_cast<std::int64_t>(service.connect_timeout()) * 1000;
}

} // namespace

RedirectAction redirect_action(RedirectMode mode, bool redirected, bool exec, bool loops)
{
    if (mode == RedirectMode::none)
        return RedirectAction::configured;
    if (redirected && loops)
        return RedirectAction::refuse_loop;
    if (mode == RedirectMode::forward_only && !redirected)
        return RedirectAction::refuse_direct;
    if (redirected && !exec && (mode == RedirectMode::forward || mode == RedirectMode::forward_only))
        return RedirectAction::original;
    return RedirectAction::configured;
}

bool is_own_listener(const Config& config, const Endpoint& to)
{
    for (const auto& p : config.ports) {
        if (p.port != to.port)
            continue;
        return match_service(p, to.ip, interface_addresses) != nullptr && is_local_address(to.ip);
    }
    return false;
}

IpAddress rotate_address(const IpAddress& first, const IpAddress& last, std::uint64_t n)
{
    // Count the range in the low 64 bits (a rotate range beyond 2^64 addresses is not a real case).
    auto low = [](const IpAddress& a) {
        std::uint64_t v = 0;
        const unsigned bytes = a.is_v4() ? 4 : 16;
        for (unsigned i = bytes >= 8 ? bytes - 8 : 0; i < bytes; ++i)
            v = (v << 8) | a.bytes[i];
        return v;
    };
    const std::uint64_t span = low(last) - low(first) + 1;
    std::uint64_t step = span ? n % span : n;
    IpAddress a = first;
    // Add `step` to the address, byte by byte with carry.
    const unsigned bytes = a.is_v4() ? 4 : 16;
    unsigned carry = 0;
    for (unsigned i = bytes; i-- > 0;) {
        const unsigned sum = a.bytes[i] + static_cast<unsigned>(step & 0xff) + carry;
        a.bytes[i] = static_cast<std::uint8_t>(sum & 0xff);
        carry = sum >> 8;
        step >>= 8;
    }
    return a;
}

Result<UpstreamConnection> connect_upstream(const Service& service, std::uint16_t local_port, const Activity& activity,
                                            std::uint64_t session_id, UpstreamAttempts& attempts)
{
    const auto source = source_for(service);
    int failures = 0;
    std::string error = "no server";
    for (const auto& up : service.servers) {
        auto addresses = resolve(up.host);
        if (!addresses) {
            error = addresses.error().message;
        } else {
            if (source)
                std::erase_if(*addresses, [&](const IpAddress& a) { return a.is_v4() != source->is_v4(); });
            error = addresses->empty()
                        ? "no address of " + up.host + " matches the family of the source address " + source->str()
                        : "server " + up.text + ": no address";
            for (const auto& ip : *addresses) {
                const Endpoint to{ip, up.port.value_or(local_port)};
                auto fd = attempt(to, source, activity, connect_deadline(service, activity));
                if (activity.stopping())
                    return fail("stopped"); // the session has ended already: nothing to log
                attempts.push_back(UpstreamAttempt{to, !fd});
                if (fd) {
                    auto u = reached(service, std::move(*fd), to, up.host);
                    u.failures = failures;
                    return u;
                }
                error = "server " + to.str() + ": " + fd.error().message;
            }
        }
        ++failures;
        log::warning("session=" + std::to_string(session_id) + " " + error, session_id);
    }
    return fail(error);
}

Result<UpstreamConnection> connect_original(const Service& service, const Endpoint& to, const Activity& activity)
{
    auto source = source_for(service);
    if (source && source->is_v4() != to.ip.is_v4())
        source.reset(); // srcip/rotate of the other family does not apply to this destination
    auto fd = attempt(to, source, activity, connect_deadline(service, activity));
    if (!fd)
        return fail("original destination " + to.str() + ": " + fd.error().message);
    return reached(service, std::move(*fd), to, to.ip.str());
}

Result<void> send_all(int fd, std::string_view bytes, const Activity& activity, std::int64_t deadline_ms,
                      std::string_view what)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return fail(std::string(what) + ": " + errno_text("send"));
        switch (activity.wait_until(fd, POLLOUT, deadline_ms)) {
        case Activity::Wait::stopped:
            return fail("stopped");
        case Activity::Wait::idle:
            return fail(std::string(what) + ": send timed out");
        case Activity::Wait::ready:
            break;
        }
    }
    return {};
}

} // namespace tcpproxy
