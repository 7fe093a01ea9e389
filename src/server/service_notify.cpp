#include "service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>

namespace tcpproxy {

namespace {

std::uint64_t monotonic_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

// Failures are not reported: a service manager that stopped listening has
// nothing more to learn, and the daemon serves on regardless.
void notify(const std::string& state) { ::sd_notify(0, state.c_str()); }

} // namespace

ServiceNotifier::ServiceNotifier()
{
    const char* socket = ::getenv("NOTIFY_SOCKET");
    active_ = socket && *socket;
    if (!active_)
        return;
    // sd_watchdog_enabled also checks WATCHDOG_PID names this process.
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        watchdog_usec_ = usec;
    auto every = std::chrono::milliseconds(1000);
    if (watchdog_usec_)
        every = std::min(every, std::chrono::milliseconds(std::max<std::uint64_t>(watchdog_usec_ / 2000, 1)));
    tick_ = every;
}

void ServiceNotifier::status(std::size_t sessions)
{
    told_sessions_ = sessions;
    notify("STATUS=" + std::to_string(ports_) + " port(s), " + std::to_string(sessions) + " session(s)");
}

void ServiceNotifier::ready(std::size_t ports, std::size_t sessions)
{
    if (!active_)
        return;
    ports_ = ports;
    notify("READY=1");
    status(sessions);
}

void ServiceNotifier::reloading()
{
    if (active_)
        notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
}

void ServiceNotifier::stopping()
{
    if (active_)
        notify("STOPPING=1");
}

void ServiceNotifier::tick(bool healthy, std::size_t sessions)
{
    if (!active_)
        return;
    if (told_sessions_ != sessions)
        status(sessions);
    if (watchdog_usec_ && healthy)
        notify("WATCHDOG=1");
}

} // namespace tcpproxy
