#pragma once
// What is known about one session, filled in as it runs and handed to the
// reaper when it ends. The end of every session is described by exactly one
// of these, whatever path it took (denied, failed connect, timeout, reset...).
#include "tcpproxy/net/address.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/status.hpp"

#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace tcpproxy {

// One attempt to reach an upstream server address.
struct UpstreamAttempt {
    Endpoint server;
    bool failed = false;
};
// Most sessions make one attempt: kept inline, no allocation.
using UpstreamAttempts = boost::container::small_vector<UpstreamAttempt, 1>;

struct SessionRecord {
    std::uint64_t id = 0;
    Status status = Status::ok;
    std::string reason; // why, for the log when status is not ok

    ConfigPtr config;                 // keeps `service` alive
    const Service* service = nullptr; // null when no section matched

    Endpoint client;
    std::optional<Endpoint> via;        // the real peer when a PROXY header named the client
    std::string client_name;            // the IP when not resolved
    Endpoint local;                     // the interface address and port the client reached
    std::optional<Endpoint> server;     // the upstream actually connected
    std::optional<Endpoint> outgoing;   // our side of the upstream connection
    std::optional<Endpoint> origdst;    // a redirected connection's original destination
    std::string server_name;            // the upstream host as configured (name or IP)
    std::string program;                // exec sessions: the handler's path
    UpstreamAttempts upstream_attempts; // in order; the reaper adds them to the metrics

    std::uint64_t bytes_client = 0; // received from the client, sent to the server
    std::uint64_t bytes_server = 0; // received from the server, sent to the client

    std::chrono::system_clock::time_point started{};
    std::chrono::steady_clock::time_point started_steady{};
    std::chrono::steady_clock::duration duration{};

    long started_epoch() const
    {
        return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count());
    }
    double duration_seconds() const { return std::chrono::duration<double>(duration).count(); }
};

} // namespace tcpproxy
