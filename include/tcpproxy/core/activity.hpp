#pragma once
// What the two threads of one session share while they run: a stop flag and
// the time either direction last moved a byte. The idle timeout is measured
// on the session as a whole: a direction waiting for input is not idle while
// the other one moves data.
#include <atomic>
#include <chrono>
#include <cstdint>

struct pollfd;

namespace tcpproxy {

class Activity {
public:
    enum class Wait { ready, idle, stopped };
    // Milliseconds on a monotonic clock.
    using Clock = std::int64_t (*)() noexcept;

    // `clock` is for tests (a fake clock makes the idle timeout deterministic);
    // the default is now_ms().
    explicit Activity(Clock clock = &Activity::now_ms) noexcept : clock_(clock) {}

    // timeout_s = 0: no idle timeout.
    void reset(unsigned timeout_s) noexcept;
    // Sets the idle timeout and starts its clock now, keeping the stop flag.
    void reset_timeout(unsigned timeout_s) noexcept;

    void stop() noexcept { stopping_.store(true, std::memory_order_release); }
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    // Called by a direction each time it has moved bytes.
    void touch() noexcept { last_ms_.store(clock_(), std::memory_order_relaxed); }

    // Blocks until `fd` has one of `events`, the session has been idle for the
    // timeout, or stop() (followed by a wake-up) was called.
    Wait wait(int fd, short events) const;

    // As wait(), bounded by an absolute deadline on this activity's clock
    // (now() + a connect timeout) instead of the idle timeout: returns idle
    // when the deadline passes.
    Wait wait_until(int fd, short events, std::int64_t deadline_ms) const;

    // The time on this activity's clock.
    std::int64_t now() const noexcept { return clock_(); }
    // The real clock: CLOCK_MONOTONIC_COARSE in milliseconds.
    static std::int64_t now_ms() noexcept;

private:
    Clock clock_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> last_ms_{0};
    std::int64_t timeout_ms_ = 0;
};

} // namespace tcpproxy
