#pragma once
// Connecting to the upstream server (reference §4.1): the servers of the
// list in order, each address of a name in turn, each attempt bounded by the
// service's connect timeout; srcip or rotate as the source.
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tcpproxy {

struct UpstreamResult {
    Fd fd;                    // connected (non-blocking); invalid when none could be reached
    Endpoint server;
    std::optional<Endpoint> outgoing; // our side; only for extended info (a system call per session)
    std::string server_name;  // the host as configured
    int failures = 0;         // attempts that failed before the success (each a WARNING)
    bool stopped = false;     // the session was stopped while connecting
    std::string error;        // the last failure, for the log
};

UpstreamResult connect_upstream(const Service& service, std::uint16_t local_port, const Activity& activity,
                                std::uint64_t session_id);

// redirect-mode forward: one attempt at the original destination `to`
// (srcip/rotate applied when of its family). Not a failover list: a failure
// is the session's CONNECT, not a WARNING.
UpstreamResult connect_original(const Service& service, const Endpoint& to, const Activity& activity);

// The n-th address of the rotate range [first, last], wrapping around.
IpAddress rotate_address(const IpAddress& first, const IpAddress& last, std::uint64_t n);

} // namespace tcpproxy
