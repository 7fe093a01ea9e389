#pragma once
// One configured port: its listening sockets and the acceptor thread that
// takes connections from them and hands each to a free session slot.
#include "bind_plan.hpp"
#include "config_holder.hpp"
#include "session_pool.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace tcpproxy {

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

    void start(SessionPool& pool, ConfigHolder& config, Reaper& reaper);
    // Stops accepting and closes the sockets; connections still in the
    // backlog are reset by the kernel. Running sessions are not touched.
    void stop();

    std::uint16_t port() const { return port_; }
    const BindPlan& plan() const { return plan_; }
    bool inherited() const { return inherited_; }

private:
    void run(SessionPool& pool, ConfigHolder& config, Reaper& reaper);
    void shed(int sock, ConfigHolder& config, Reaper& reaper);

    std::uint16_t port_;
    BindPlan plan_;
    std::vector<Fd> sockets_;
    bool inherited_ = false;
    Fd wake_;                      // eventfd: stop() pokes it
    Fd spare_;                     // held so that one descriptor is free when we run out
    SessionPool* pool_ = nullptr;
    std::atomic<bool> stopping_{false};
    boost::thread thread_;
};

} // namespace tcpproxy
