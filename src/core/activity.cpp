#include "tcpproxy/core/activity.hpp"

#include "tcpproxy/core/wake.hpp"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

namespace tcpproxy {

std::int64_t Activity::now_ms() noexcept
{
    // The coarse clock is read from the vDSO without a system call; a few ms
    // of resolution is plenty for timeouts counted in seconds.
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Activity::reset(unsigned timeout_s) noexcept
{
    stopping_.store(false, std::memory_order_relaxed);
    timeout_ms_ = static_cast<std::int64_t>(timeout_s) * 1000;
    touch();
}

void Activity::reset_timeout(unsigned timeout_s) noexcept
{
    timeout_ms_ = static_cast<std::int64_t>(timeout_s) * 1000;
    touch();
}

Activity::Wait Activity::wait(int fd, short events) const
{
    for (;;) {
        if (stopping())
            return Wait::stopped;
        int ms = -1;
        if (timeout_ms_ > 0) {
            const auto left = last_ms_.load(std::memory_order_relaxed) + timeout_ms_ - now();
            if (left <= 0)
                return Wait::idle;
            // +1: the coarse clock may lag; waking a hair late beats waking early and looping.
            ms = static_cast<int>(std::min<std::int64_t>(left + 1, 1 << 30));
        }
        pollfd p{fd, events, 0};
        const int r = wake::poll(&p, 1, ms);
        if (r > 0)
            return Wait::ready; // includes POLLERR/POLLHUP: the next call reports them
        if (r < 0 && errno != EINTR)
            return Wait::ready;
    }
}

Activity::Wait Activity::wait_until(int fd, short events, std::int64_t deadline_ms) const
{
    for (;;) {
        if (stopping())
            return Wait::stopped;
        const auto left = deadline_ms - now();
        if (left <= 0)
            return Wait::idle;
        pollfd p{fd, events, 0};
        const int r = wake::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left + 1, 1 << 30)));
        if (r > 0)
            return Wait::ready;
        if (r < 0 && errno != EINTR)
            return Wait::ready;
    }
}

} // namespace tcpproxy
