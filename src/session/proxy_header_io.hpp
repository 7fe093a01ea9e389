#pragma once
// The PROXY protocol on a session's sockets: reading the header a client
// (another proxy) sends first, and sending ours to the upstream server.
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/session/proxy_protocol.hpp"
#include "tcpproxy/config/session_record.hpp"

#include <cstdint>
#include <string>

namespace tcpproxy {

struct ProxyHeaderRead {
    enum class Kind { header, failed, stopped };
    Kind kind = Kind::failed;
    proxy_protocol::Header header; // Kind::header
    std::string error;             // Kind::failed: why (malformed, missing, too slow)
};

// Reads exactly one v1 or v2 header from the non-blocking socket `fd`, never
// a byte of what follows it, before `deadline_ms` (Activity::now_ms() clock).
ProxyHeaderRead read_proxy_header(int fd, const Activity& activity, std::int64_t deadline_ms);

// Sends `bytes` on the non-blocking socket `fd` before `deadline_ms`; returns
// the error ("" on success); `stopped` is set when the session was stopped.
std::string send_proxy_header(int fd, const std::string& bytes, const Activity& activity, std::int64_t deadline_ms,
                              bool& stopped);

// accept-proxy: reads the client's header within the service's connect
// timeout; the address it names becomes r.client. Returns "" when the session
// may go on, else why the client is refused (or "stopped").
std::string take_client_proxy_header(SessionRecord& r, int client_fd, const Activity& activity);

// proxy-protocol v1|v2: sends the header naming r.client -> r.local to the
// freshly connected upstream. Returns "" or the error; `stopped` as above.
std::string send_upstream_proxy_header(const SessionRecord& r, int server_fd, const Activity& activity,
                                       bool& stopped);

} // namespace tcpproxy
