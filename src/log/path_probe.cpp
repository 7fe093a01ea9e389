#include "path_probe.hpp"

#include <sys/stat.h>
#include <time.h>

namespace tcpproxy::log {

namespace {

std::int64_t coarse_now_ms()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); // vDSO: no system call
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace

bool PathProbe::present()
{
    const auto now = coarse_now_ms();
    auto next = next_check_ms_.load(std::memory_order_acquire);
    // One caller refreshes; the others use the value it had (a stale answer
    // for a moment is harmless: a message to a missing syslog is lost anyway).
    if ((next == 0 || now >= next) && next_check_ms_.compare_exchange_strong(next, now + interval_ms_)) {
        struct stat st {};
        present_.store(::stat(path_.c_str(), &st) == 0, std::memory_order_release);
    }
    return present_.load(std::memory_order_acquire);
}

} // namespace tcpproxy::log
