#pragma once
// The original destination of a connection that an iptables/nftables
// REDIRECT or DNAT rule sent to us (reference §4.4), from the connection
// tracking table: SO_ORIGINAL_DST for IPv4 (also for IPv4 clients on a
// dual-stack socket), IP6T_SO_ORIGINAL_DST for IPv6.
#include "tcpproxy/net/address.hpp"

#include <optional>

namespace tcpproxy {

// The conntrack entry's original destination, or nothing when the kernel has
// none (no connection tracking, or an untracked connection).
std::optional<Endpoint> original_destination(int fd, const Endpoint& local);

// The original destination when it differs from `local`: the connection was
// redirected. Nothing for a connection that came straight to us.
std::optional<Endpoint> redirected_from(int fd, const Endpoint& local);

// Whether `ip` is an address of this host (binding to it succeeds).
bool is_local_address(const IpAddress& ip);

} // namespace tcpproxy
