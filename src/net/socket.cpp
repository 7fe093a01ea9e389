// Thin wrappers over socket system calls; each failure names its call.
#include "tcpproxy/net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

namespace tcpproxy {

Endpoint local_endpoint(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw sys_error("getsockname");
    return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
}

Endpoint peer_endpoint(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw sys_error("getpeername");
    return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
}

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
    return host;
}

} // namespace tcpproxy
