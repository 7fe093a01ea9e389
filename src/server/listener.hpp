#pragma once
// The listening side of the daemon: for each configured port what it binds
// (the bind plan), its sockets and the acceptor thread that hands each
// connection to a free session slot with the configuration current at that
// moment; and the set of listeners, which a reload updates.
#include "session_pool.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <boost/thread/thread.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace tcpproxy {

// What a port's listener binds (pure): the specific addresses when every
// section of the port names an address, otherwise the wildcard (IPv4 and
// IPv6), since a `*` or NIC-name section may match any local address.
struct BindPlan {
    bool wildcard = true;
    std::vector<IpAddress> addresses; // when not wildcard: distinct, in file order
    friend bool operator==(const BindPlan&, const BindPlan&) = default;
};

BindPlan bind_plan(const PortConfig& port);

// The configuration new connections use. A reload swaps it; sessions keep
// the one they started with (their SessionRecord holds a reference).
class ConfigHolder {
public:
    explicit ConfigHolder(ConfigPtr c) : config_(std::move(c)) {}
    ConfigPtr get() const
    {
        std::lock_guard lock(mutex_);
        return config_;
    }
    void set(ConfigPtr c)
    {
        std::lock_guard lock(mutex_);
        config_ = std::move(c);
    }

private:
    mutable std::mutex mutex_;
    ConfigPtr config_;
};

// How long an acceptor waits before trying again after accept() failed for
// want of resources (EMFILE and the like): 50 ms, doubling up to 1 s, back to
// the start once a connection is accepted. Pure, so that the sequence is tested
// without running out of descriptors.
class AcceptBackoff {
public:
    static constexpr int first_ms = 50;
    static constexpr int max_ms = 1000;

    // The wait before the next attempt: 0 while nothing has failed.
    int wait_ms() const noexcept { return ms_; }
    void failed() noexcept { ms_ = ms_ ? std::min(ms_ * 2, max_ms) : first_ms; }
    void succeeded() noexcept { ms_ = 0; }

private:
    int ms_ = 0;
};

class Listener {
public:
    // Binds now (throws std::system_error naming the failed call); start()
    // begins accepting. Binding before starting lets the daemon report a busy
    // port before it forks.
    Listener(std::uint16_t port, BindPlan plan);
    // Serves sockets bound by someone else (systemd socket activation).
    Listener(std::uint16_t port, BindPlan plan, std::vector<Fd> sockets);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // The acceptor thread is a wake thread (core/wake.hpp): wake::install()
    // must have been called, as every running mode does first.
    void start(SessionPool& pool, ConfigHolder& config, Reaper& reaper);
    // Stops accepting and closes the sockets; connections still in the
    // backlog are reset by the kernel. Running sessions are not touched.
    void stop();

    const BindPlan& plan() const { return plan_; }
    bool inherited() const { return inherited_; }
    // The acceptor is in its loop (or was stopped on purpose): for the watchdog.
    bool healthy() const { return stopping_.load() || accepting_.load(); }

private:
    void run(SessionPool& pool, ConfigHolder& config, Reaper& reaper);
    // True when a pending connection was taken and turned away.
    bool shed(int sock, ConfigHolder& config, Reaper& reaper);

    std::uint16_t port_;
    BindPlan plan_;
    std::vector<Fd> sockets_;
    bool inherited_ = false;
    Fd spare_; // held so that one descriptor is free when we run out
    SessionPool* pool_ = nullptr;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> accepting_{false}; // from start() until run() returns, whyever it does
    boost::thread thread_;
};

// The listeners of a configuration, one per port; a reload updates the set
// (ports added are bound, ports removed or rebound differently are closed).
class ListenerSet {
public:
    // Binds every port of `config`; throws std::runtime_error (saying which port and call) on the first failure.
    void bind_all(const Config& config);
    void start_all(SessionPool& pool, ConfigHolder& holder, Reaper& reaper);
    // Reload: keeps the listeners whose binding is unchanged; failures to
    // bind a new port are logged and that port is skipped.
    void update(const Config& config, SessionPool& pool, ConfigHolder& holder, Reaper& reaper);
    void stop_all();
    std::size_t size() const { return listeners_.size(); }
    // Every acceptor healthy (Listener::healthy); the main thread's, as update() is.
    bool healthy() const
    {
        return std::all_of(listeners_.begin(), listeners_.end(), [](const auto& l) { return l.second->healthy(); });
    }

private:
    std::map<std::uint16_t, std::unique_ptr<Listener>> listeners_;
};

} // namespace tcpproxy
