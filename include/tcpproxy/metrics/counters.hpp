#pragma once
// The live counters behind GET /metrics and the --status totals line: one
// set per process, never reset, so no counter goes backwards across a
// reload. Each is updated where its data already is: per-session totals at
// the reaper (one thread, once per session start and end), acceptor events
// by the acceptor thread (atomics it owns), upstream connects at the reaper
// too (the session keeps its attempts: no lock per connect), access programs
// by the session thread that runs them.
#include "tcpproxy/core/status.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy::metrics {

// What the reaper adds when a session ends.
struct SessionEnd {
    std::uint16_t port = 0;
    std::string service; // the section's name (empty when none)
    Status status = Status::ok;
    std::uint64_t bytes_client = 0; // from the client
    std::uint64_t bytes_server = 0; // from the server
    bool handler = false;           // an exec session
    bool started = true;            // its start was counted (a shed connection's was not)
};

// A port's acceptor counters, written by its acceptor thread only.
struct PortCounters {
    std::atomic<std::uint64_t> backoff_episodes{0}; // ran out of descriptors (one per episode)
    std::atomic<std::uint64_t> shed{0};             // connections turned away meanwhile
};

// A snapshot of every counter (for rendering and --status).
struct Snapshot {
    struct Service {
        std::uint64_t started = 0;
        std::map<Status, std::uint64_t> ended;
        std::uint64_t bytes_client = 0, bytes_server = 0;
        std::uint64_t handler_runs = 0, handler_failures = 0;
    };
    std::map<std::pair<std::uint16_t, std::string>, Service> services; // by (port, service)
    struct Upstream {
        std::uint64_t attempts = 0, failures = 0;
    };
    std::map<std::string, Upstream> upstreams; // by server as configured
    struct Port {
        std::uint64_t backoff_episodes = 0, shed = 0;
    };
    std::map<std::uint16_t, Port> ports;
    std::uint64_t acp_runs = 0, acp_failures = 0;
    std::uint64_t reloads_ok = 0, reloads_refused = 0;
    double last_reload_epoch = 0; // the start, until a reload succeeds
    std::uint64_t slots = 0;      // session slots (capacity)
    std::uint64_t sessions_active = 0;

    // Totals over every service, for --status.
    std::uint64_t sessions_started() const;
    std::uint64_t sessions_ended() const;
    std::uint64_t sessions_failed() const; // ended with a status other than OK
    std::uint64_t bytes_client() const;
    std::uint64_t bytes_server() const;
};

class Counters {
public:
    Counters(); // the time of the last good configuration is the start until a reload
    // At the reaper.
    void session_started(std::uint16_t port, std::string_view service);
    void session_ended(const SessionEnd& e);
    // On a session's thread.
    void upstream_connect(std::string_view server, bool failed);
    void acp_run(bool failed);
    // The acceptor of `port` keeps the reference (stable for the process's life).
    PortCounters& port(std::uint16_t port);
    // On the main thread.
    void reload(bool ok);
    void slots(std::size_t n);

    Snapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::uint16_t, std::string>, Snapshot::Service> services_;
    std::map<std::string, Snapshot::Upstream, std::less<>> upstreams_;
    std::map<std::uint16_t, PortCounters> ports_;
    std::uint64_t active_ = 0;
    std::atomic<std::uint64_t> acp_runs_{0}, acp_failures_{0};
    std::atomic<std::uint64_t> reloads_ok_{0}, reloads_refused_{0};
    std::atomic<double> last_reload_epoch_{0};
    std::atomic<std::uint64_t> slots_{0};
};

// The process's counters.
Counters& counters();

} // namespace tcpproxy::metrics
