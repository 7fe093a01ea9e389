#pragma once
// A binary wake-up for one waiting thread that sleeps at once.
//
// Why not the standard ones: libstdc++ 12's std::binary_semaphore (and
// std::atomic::wait under it) spins with sched_yield before it sleeps, and a
// mutex + condition variable costs a third futex call per hand-off (glibc marks
// the mutex contended when a waiter re-takes it, so its unlock always wakes).
// Session threads hand over to each other for every connection, so each of
// those calls is paid per connection: this costs one FUTEX_WAKE for the
// opener and one FUTEX_WAIT for the waiter, and nothing when it does not sleep.
#include <atomic>
#include <cstddef>

namespace tcpproxy {

class Gate {
public:
    // Lets the waiter through: now, or at its next pass().
    void open() noexcept;
    // Waits until opened, then closes the gate behind it. One thread at a time.
    void pass() noexcept;

    // Tells the kernel that about `waiters` threads of this process may wait
    // in gates at once, so that waking one does not walk the others: sizes
    // the process's private futex hash (Linux 6.17+, which otherwise gives a
    // 2-CPU process 16 buckets whatever its thread count) to at least two
    // buckets per waiter, only ever growing it. A no-op on older kernels
    // (Debian 12's 6.1 uses the global hash).
    static void expect_waiters(std::size_t waiters) noexcept;

private:
    enum : int { closed = 0, opened = 1, sleeping = 2 };
    std::atomic<int> state_{closed};
};

} // namespace tcpproxy
