#include "tcpproxy/net/original_destination.hpp"

#include "tcpproxy/core/fd.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>,
// which clash with the C library's <netinet/in.h> in C++.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace tcpproxy {

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
