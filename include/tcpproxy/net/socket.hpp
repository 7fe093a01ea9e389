#pragma once
// Socket helpers over the raw system calls: every failure is a
// std::system_error naming the call. All descriptors are created CLOEXEC.
#include "tcpproxy/net/address.hpp"
#include "tcpproxy/core/fd.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

Endpoint local_endpoint(int fd);
Endpoint peer_endpoint(int fd);

void set_nonblocking(int fd);
// Sends small writes at once (TCP_NODELAY): a proxy must not add Nagle's
// delay to request/response traffic. Failure leaves Nagle on, nothing worse.
void set_nodelay(int fd) noexcept;
// Arms an abortive close: the next close() sends RST instead of FIN.
void set_linger_zero(int fd) noexcept;

// A listening TCP socket on `where` (blocking, CLOEXEC, SO_REUSEADDR).
// `v6only` matters for IPv6 sockets only: false makes `::` dual-stack.
Fd listen_on(const Endpoint& where, bool v6only, int backlog);
// The same, bound but not yet listening: the daemon binds its ports (as root)
// before its session threads exist and listens once they do, so that a port
// that accepts connections is one that serves them.
Fd bind_on(const Endpoint& where, bool v6only);

// A non-blocking TCP socket of the family of `ip`, not yet connected, with TCP_NODELAY.
Fd tcp_socket_for(const IpAddress& ip);

// The addresses a network interface has right now (empty when it has none or
// does not exist). Asked of the kernel on every call: a NIC such as ppp0 may
// change its address while we run.
std::vector<IpAddress> interface_addresses(const std::string& nic);

// The name of an address by reverse lookup, or its text when there is none.
std::string host_name_of(const IpAddress& ip);

// The original destination of a connection that an iptables/nftables
// REDIRECT or DNAT rule sent to us (reference §4.4), from the connection
// tracking table (SO_ORIGINAL_DST for IPv4, also for IPv4 clients on a
// dual-stack socket; IP6T_SO_ORIGINAL_DST for IPv6), when it differs from
// `local`. Nothing for a connection that came straight to us, or when the
// kernel tracks none.
std::optional<Endpoint> redirected_from(int fd, const Endpoint& local);

// Whether `ip` is an address of this host (binding to it succeeds).
bool is_local_address(const IpAddress& ip);

} // namespace tcpproxy
