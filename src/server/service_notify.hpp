#pragma once
// The daemon's side of systemd's service protocol (sd_notify(3), a Type=notify
// unit): READY=1 once every port listens, RELOADING=1 (with MONOTONIC_USEC)
// and READY=1 around a reload, STOPPING=1 at shutdown, STATUS= with the
// number of sessions, and WATCHDOG=1 while the acceptors and the reaper are
// healthy when the unit sets WatchdogSec=. Without NOTIFY_SOCKET every call
// does nothing and the main thread is never woken for it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace tcpproxy {

class ServiceNotifier {
public:
    ServiceNotifier();

    void ready(std::size_t ports, std::size_t sessions);
    void reloading();
    void stopping();

    // How long the main thread may wait for a signal before tick() is due:
    // half the watchdog interval (at most a second, for STATUS=); none when
    // there is no service manager to tell.
    std::optional<std::chrono::milliseconds> tick_interval() const { return tick_; }
    // STATUS= when the number changed; WATCHDOG=1 only when `healthy`.
    void tick(bool healthy, std::size_t sessions);

private:
    void status(std::size_t sessions);

    bool active_ = false;
    std::uint64_t watchdog_usec_ = 0;
    std::optional<std::chrono::milliseconds> tick_;
    std::optional<std::size_t> told_sessions_;
    std::size_t ports_ = 0;
};

} // namespace tcpproxy
