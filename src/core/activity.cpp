#include "tcpproxy/core/activity.hpp"

#include "tcpproxy/core/wake.hpp"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
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
    watch(-1, -1);
    timeout_ms_ = static_cast<std::int64_t>(timeout_s) * 1000;
    touch();
}

void Activity::reset_timeout(unsigned timeout_s) noexcept
{
    timeout_ms_ = static_cast<std::int64_t>(timeout_s) * 1000;
    touch();
}

void Activity::watch(int a, int b) noexcept
{
    watched_[0].store(a, std::memory_order_relaxed);
    watched_[1].store(b, std::memory_order_relaxed);
    // No reading here: most sessions end before the first settle (and with
    // timeout 0 none is ever needed), and both directions call this. The
    // settle step takes the first reading.
    std::lock_guard lock(probe_mutex_);
    have_baseline_ = false;
    moved_since_baseline_.store(true, std::memory_order_relaxed);
}

std::uint64_t Activity::signature() const noexcept
{
    // A sum of counters that only grow while bytes move: an equal sum at two
    // deadlines means nothing moved in between (a wrap needs 2^64 bytes).
    std::uint64_t sum = 0;
    for (const auto& w : watched_) {
        const int fd = w.load(std::memory_order_relaxed);
        if (fd < 0)
            continue;
        tcp_info info{};
        socklen_t len = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
            len >= offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
            sum += info.tcpi_bytes_acked + info.tcpi_bytes_received;
            continue;
        }
        // Not TCP (a socketpair, a pipe): what waits in the send queue; a
        // queue the peer drains changes it.
        int queued = 0;
        if (::ioctl(fd, SIOCOUTQ, &queued) == 0)
            sum += static_cast<std::uint64_t>(queued) * 0x9e3779b97f4a7c15ULL; // spread, so two queues rarely cancel
    }
    return sum;
}

bool Activity::wire_moved() const noexcept
{
    std::lock_guard lock(probe_mutex_);
    const auto now_signature = signature();
    const bool moved = have_baseline_ && now_signature != wire_signature_;
    wire_signature_ = now_signature;
    have_baseline_ = true;
    moved_since_baseline_.store(false, std::memory_order_relaxed);
    return moved;
}

void Activity::settle_baseline() const noexcept
{
    std::lock_guard lock(probe_mutex_);
    if (!moved_since_baseline_.exchange(false, std::memory_order_relaxed))
        return; // the other direction took it
    wire_signature_ = signature();
    have_baseline_ = true;
}

bool Activity::idle_after_probe() const noexcept
{
    std::lock_guard lock(probe_mutex_);
    // The other direction may have checked (and restarted the clock) meanwhile.
    if (last_ms_.load(std::memory_order_relaxed) + timeout_ms_ > now())
        return false;
    const auto now_signature = signature();
    if (!have_baseline_) {
        // The deadline came before any reading (no direction was waiting at
        // the settle time): this one is the baseline, and nothing is known
        // to have moved since our last byte, a timeout ago.
        wire_signature_ = now_signature;
        have_baseline_ = true;
        moved_since_baseline_.store(false, std::memory_order_relaxed);
        return true;
    }
    if (now_signature == wire_signature_)
        return true;
    wire_signature_ = now_signature;
    last_ms_.store(clock_(), std::memory_order_relaxed);
    moved_since_baseline_.store(false, std::memory_order_relaxed);
    return false;
}

Activity::Wait Activity::wait(int fd, short events) const
{
    for (;;) {
        if (stopping())
            return Wait::stopped;
        int ms = -1;
        if (timeout_ms_ > 0) {
            const auto t = now();
            const auto last = last_ms_.load(std::memory_order_relaxed);
            const auto left = last + timeout_ms_ - t;
            if (left <= 0) {
                if (idle_after_probe())
                    return Wait::idle;
                continue;
            }
            auto wake_in = left;
            if (moved_since_baseline_.load(std::memory_order_relaxed)) {
                // We moved bytes since the counters were read: read them again
                // once the acknowledgements of our own last bytes are in, so
                // the deadline does not take those for the kernel's movement.
                const auto settle_at = last + std::min<std::int64_t>(settle_ms, timeout_ms_ / 4);
                if (t >= settle_at) {
                    settle_baseline();
                    continue;
                }
                wake_in = std::min(wake_in, settle_at - t);
            }
            // +1: the coarse clock may lag; waking a hair late beats waking early and looping.
            ms = static_cast<int>(std::min<std::int64_t>(wake_in + 1, 1 << 30));
        }
        pollfd p{fd, events, 0};
        const int r = wake::poll(&p, 1, ms);
        if (r > 0)
            return Wait::ready; // includes POLLERR/POLLHUP: the next call reports them
        if (r < 0 && errno != EINTR)
            return Wait::ready;
    }
}

Activity::Wait Activity::wait_until(int fd, short events, std::int64_t deadline_ms, short* revents) const
{
    for (;;) {
        if (stopping())
            return Wait::stopped;
        const auto left = deadline_ms - now();
        if (left <= 0)
            return Wait::idle;
        pollfd p{fd, events, 0};
        const int r = wake::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left + 1, 1 << 30)));
        if (r > 0 || (r < 0 && errno != EINTR)) {
            if (revents)
                *revents = r > 0 ? p.revents : POLLERR; // a failed poll: let the caller ask the socket
            return Wait::ready;
        }
    }
}

} // namespace tcpproxy
