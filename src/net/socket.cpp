// Thin wrappers over socket system calls; each failure names its call.
#include "tcpproxy/net/socket.hpp"

#include "tcpproxy/core/text.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>,
// which clash with the C library's <netinet/in.h> in C++.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace tcpproxy {

namespace {

Endpoint endpoint_of(int fd, int (*get)(int, sockaddr*, socklen_t*), const char* call)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (get(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw sys_error(call);
    return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
}

} // namespace

Endpoint local_endpoint(int fd) { return endpoint_of(fd, ::getsockname, "getsockname"); }

Endpoint peer_endpoint(int fd) { return endpoint_of(fd, ::getpeername, "getpeername"); }

void set_nonblocking(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw sys_error("fcntl(O_NONBLOCK)");
}

void set_nodelay(int fd) noexcept
{
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void set_linger_zero(int fd) noexcept
{
    const linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

Fd bind_on(const Endpoint& where, bool v6only)
{
    const int family = where.ip.is_v4() ? AF_INET : AF_INET6;
    Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd)
        throw sys_error("socket");
    const int one = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        throw sys_error("setsockopt(SO_REUSEADDR)");
    if (family == AF_INET6) {
        const int v = v6only ? 1 : 0;
        if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) < 0)
            throw sys_error("setsockopt(IPV6_V6ONLY)");
    }
    sockaddr_storage ss{};
    const auto len = where.to_sockaddr(ss);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) < 0)
        throw sys_error("bind");
    return fd;
}

Fd listen_on(const Endpoint& where, bool v6only, int backlog)
{
    Fd fd = bind_on(where, v6only);
    if (::listen(fd.get(), backlog) < 0)
        throw sys_error("listen");
    return fd;
}

Fd tcp_socket_for(const IpAddress& ip)
{
    Fd fd(::socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
    if (!fd)
        throw sys_error("socket");
    set_nodelay(fd.get());
    return fd;
}

std::vector<IpAddress> interface_addresses(const std::string& nic)
{
    std::vector<IpAddress> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) < 0)
        throw sys_error("getifaddrs");
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || nic != i->ifa_name)
            continue;
        const int fam = i->ifa_addr->sa_family;
        if (fam == AF_INET || fam == AF_INET6)
            out.push_back(Endpoint::from_sockaddr(i->ifa_addr).ip);
    }
    ::freeifaddrs(list);
    return out;
}

std::string host_name_of(const IpAddress& ip)
{
    sockaddr_storage ss{};
    const auto len = Endpoint{ip, 0}.to_sockaddr(ss);
    char host[NI_MAXHOST];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD) != 0)
        return ip.str();
    return text::token(host); // from DNS: whatever the PTR record holds
}

namespace {

// The conntrack entry's original destination.
std::optional<Endpoint> original_destination(int fd, const Endpoint& local)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    // An IPv4 client on a dual-stack socket is tracked by the IPv4 table.
    if (local.ip.unmapped().is_v4()) {
        len = sizeof(sockaddr_in);
        if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) < 0)
            return std::nullopt;
    } else {
        len = sizeof(sockaddr_in6);
        if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) < 0)
            return std::nullopt;
    }
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return std::nullopt;
    return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
}

} // namespace

std::optional<Endpoint> redirected_from(int fd, const Endpoint& local)
{
    auto orig = original_destination(fd, local);
    if (!orig)
        return std::nullopt;
    const Endpoint mine{local.ip.unmapped(), local.port};
    const Endpoint theirs{orig->ip.unmapped(), orig->port};
    if (theirs == mine)
        return std::nullopt;
    return theirs;
}

bool is_local_address(const IpAddress& ip)
{
    const IpAddress a = ip.unmapped();
    Fd s(::socket(a.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s)
        return false;
    sockaddr_storage ss{};
    const auto len = Endpoint{a, 0}.to_sockaddr(ss);
    return ::bind(s.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0;
}

} // namespace tcpproxy
