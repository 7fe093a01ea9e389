#pragma once
// What the two threads of one session share while they run: a stop flag and
// the time either direction last moved a byte. The idle timeout is measured
// on the session as a whole: a direction waiting for input is not idle while
// the other one moves data. Bytes the kernel moves for us count too: when the
// idle deadline comes, the watched sockets' counters (TCP_INFO bytes acked
// and received; SIOCOUTQ for other sockets) are compared with those read
// shortly after our own last byte (or at the last deadline), so a slow
// reader draining our send queue keeps its session, and a peer that stops
// reading ends it (tcpproxy(1) -t). No counter is read per chunk.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

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
    void touch() noexcept
    {
        last_ms_.store(clock_(), std::memory_order_relaxed);
        moved_since_baseline_.store(true, std::memory_order_relaxed);
    }

    // The session's two sockets, whose kernel counters are checked at the
    // idle deadline; -1 = none. Either order; both directions may call it.
    // Reads nothing: the first reading is taken when our own bytes have
    // settled (wait()), so a short session or one without a timeout never
    // asks the kernel for its counters.
    void watch(int a, int b) noexcept;
    // True when the watched sockets moved bytes on the wire since the last
    // reading; the first call after watch() only takes one (false).
    // Thread-safe.
    bool wire_moved() const noexcept;

    // Blocks until `fd` has one of `events`, the session has been idle for the
    // timeout, or stop() (followed by a wake-up) was called.
    Wait wait(int fd, short events) const;

    // As wait(), bounded by an absolute deadline on this activity's clock
    // (now() + a connect timeout) instead of the idle timeout: returns idle
    // when the deadline passes. On ready, `revents` (when given) gets what
    // poll reported.
    Wait wait_until(int fd, short events, std::int64_t deadline_ms, short* revents = nullptr) const;

    // The time on this activity's clock.
    std::int64_t now() const noexcept { return clock_(); }
    // The real clock: CLOCK_MONOTONIC_COARSE in milliseconds.
    static std::int64_t now_ms() noexcept;

private:
    Clock clock_;
    std::atomic<bool> stopping_{false};
    mutable std::atomic<std::int64_t> last_ms_{0}; // the deadline check restarts it
    std::int64_t timeout_ms_ = 0;
    std::atomic<int> watched_[2] = {-1, -1};
    mutable std::mutex probe_mutex_; // one deadline check at a time (rare: once per timeout)
    mutable std::uint64_t wire_signature_ = 0;
    mutable bool have_baseline_ = false; // wire_signature_ was read since watch(); guarded by probe_mutex_
    mutable std::atomic<bool> moved_since_baseline_{false}; // we moved bytes since wire_signature_ was read
    // How long after our own last byte the counters are read again (at most
    // a quarter of the timeout): long enough for its acknowledgement on a LAN.
    static constexpr std::int64_t settle_ms = 250;

    // At the idle deadline: idle unless the wire moved (then the clock restarts).
    bool idle_after_probe() const noexcept;
    // Reads the counters again when we have moved bytes since they were read.
    void settle_baseline() const noexcept;
    std::uint64_t signature() const noexcept;
};

} // namespace tcpproxy
