#include "upstream.hpp"

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
std::vector<IpAddress> resolve(const std::string& host, std::string& error)
{
    if (auto ip = IpAddress::parse(host))
        return {*ip};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
        error = "getaddrinfo(" + host + "): " + ::gai_strerror(rc);
        return {};
    }
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

// One attempt. Returns the connected socket, or sets `error`.
Fd attempt(const Endpoint& to, const std::optional<IpAddress>& source, const Activity& activity,
           std::int64_t deadline_ms, std::string& error, bool& stopped)
{
    Fd fd = tcp_socket_for(to.ip);
    if (source) {
        const int one = 1;
        // Let connect() pick the port together with the destination, so a
        // busy source address does not run out of ephemeral ports at bind().
        ::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_storage ss{};
        const auto len = Endpoint{*source, 0}.to_sockaddr(ss);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
            error = log::syscall_failed("bind(" + source->str() + ")", errno);
            return {};
        }
    }
    sockaddr_storage ss{};
    const auto len = to.to_sockaddr(ss);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        error = log::syscall_failed("connect", errno);
        return {};
    }
    switch (activity.wait_until(fd.get(), POLLOUT, deadline_ms)) {
    case Activity::Wait::stopped:
        stopped = true;
        return {};
    case Activity::Wait::idle:
        error = "connect: timed out";
        return {};
    case Activity::Wait::ready:
        break;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err != 0) {
        error = log::syscall_failed("connect", err);
        return {};
    }
    return fd;
}

} // namespace

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

UpstreamResult connect_upstream(const Service& service, std::uint16_t local_port, const Activity& activity,
                                std::uint64_t session_id)
{
    UpstreamResult r;
    const auto source = source_for(service);
    const std::int64_t timeout_ms = static_cast<std::int64_t>(service.connect_timeout()) * 1000;
    for (const auto& up : service.servers) {
        std::string error;
        auto addresses = resolve(up.host, error);
        if (source)
            std::erase_if(addresses, [&](const IpAddress& a) { return a.is_v4() != source->is_v4(); });
        if (addresses.empty() && error.empty())
            error = "no address of " + up.host + " matches the family of the source address " + source->str();
        bool reached = false;
        for (const auto& ip : addresses) {
            const Endpoint to{ip, up.port.value_or(local_port)};
            bool stopped = false;
            Fd fd = attempt(to, source, activity, Activity::now_ms() + timeout_ms, error, stopped);
            if (stopped) {
                r.stopped = true;
                return r;
            }
            if (fd) {
                r.fd = std::move(fd);
                r.server = to;
                r.server_name = up.host;
                if (service.extended_info)
                    r.outgoing = local_endpoint(r.fd.get());
                reached = true;
                break;
            }
            error = "server " + to.str() + ": " + error;
        }
        if (reached)
            return r;
        ++r.failures;
        if (error.empty())
            error = "server " + up.text + ": no address";
        log::warning(error, session_id);
        r.error = error;
    }
    return r;
}

UpstreamResult connect_original(const Service& service, const Endpoint& to, const Activity& activity)
{
    UpstreamResult r;
    auto source = source_for(service);
    if (source && source->is_v4() != to.ip.is_v4())
        source.reset(); // srcip/rotate of the other family does not apply to this destination
    std::string error;
    bool stopped = false;
    const auto deadline = Activity::now_ms() + static_cast<std::int64_t>(service.connect_timeout()) * 1000;
    Fd fd = attempt(to, source, activity, deadline, error, stopped);
    if (stopped) {
        r.stopped = true;
        return r;
    }
    if (!fd) {
        r.error = "original destination " + to.str() + ": " + error;
        return r;
    }
    r.fd = std::move(fd);
    r.server = to;
    r.server_name = to.ip.str();
    if (service.extended_info)
        r.outgoing = local_endpoint(r.fd.get());
    return r;
}

} // namespace tcpproxy
