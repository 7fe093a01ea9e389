#pragma once
// The server side of a session: where a connection goes (the configured
// servers or, when it was redirected, its original destination; reference
// §4.4), getting there (§4.1: the servers of the list in order, each address
// of a name in turn, each attempt bounded by the service's connect timeout;
// srcip or rotate as the source), and the bytes we send first on it (the
// PROXY header).
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/config/session_record.hpp"
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tcpproxy {

enum class RedirectAction {
    configured,    // the configured server or handler
    original,      // connect to the original destination (forward, forward-only)
    refuse_direct, // forward-only and not redirected: ACCESS
    refuse_loop,   // the original destination is one of our own listeners: ACCESS
};

// Pure: `redirected` says the connection has an original destination other
// than its local address; `loops` that this destination is ours.
RedirectAction redirect_action(RedirectMode mode, bool redirected, bool exec, bool loops);

// Whether `to` is an address tcpproxy itself listens on under `config`: a
// configured port whose sections match the address, which is this host's.
bool is_own_listener(const Config& config, const Endpoint& to);

struct UpstreamConnection {
    Fd fd; // connected, non-blocking
    Endpoint server;
    std::optional<Endpoint> outgoing; // our side; only for extended info (a system call per session)
    std::string server_name;          // the host as configured
    int failures = 0;                 // servers that failed before this one (each a WARNING)
};

// The servers of the list in turn; each one that fails is logged as a
// WARNING with the session id. The error is the last failure. When the
// session is stopped meanwhile this fails at once (activity.stopping() tells).
// Each attempt is appended to `attempts` (the metrics count them at the
// reaper: no lock and no formatting per connect here).
Result<UpstreamConnection> connect_upstream(const Service& service, std::uint16_t local_port, const Activity& activity,
                                            std::uint64_t session_id, UpstreamAttempts& attempts);

// redirect-mode forward: one attempt at the original destination `to`
// (srcip/rotate applied when of its family). Not a failover list: a failure
// is the session's CONNECT, not a WARNING.
Result<UpstreamConnection> connect_original(const Service& service, const Endpoint& to, const Activity& activity);

// Sends all of `bytes` on the non-blocking socket `fd` before `deadline_ms`
// (the activity's clock); `what` names them in the error. Fails at once when
// the session is stopped (activity.stopping() tells).
Result<void> send_all(int fd, std::string_view bytes, const Activity& activity, std::int64_t deadline_ms,
                      std::string_view what);

// The n-th address of the rotate range [first, last], wrapping around.
IpAddress rotate_address(const IpAddress& first, const IpAddress& last, std::uint64_t n);

} // namespace tcpproxy
