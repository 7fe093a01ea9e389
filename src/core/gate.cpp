#include "tcpproxy/core/gate.hpp"

#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>

namespace tcpproxy {

namespace {

static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free,
              "the futex word is the atomic's own storage");

int* word(std::atomic<int>& a) { return reinterpret_cast<int*>(&a); }

// From Linux 6.17's <linux/prctl.h>; Debian 12's headers predate them.
#ifndef PR_FUTEX_HASH
constexpr int PR_FUTEX_HASH = 78;
constexpr unsigned long PR_FUTEX_HASH_SET_SLOTS = 1;
#endif

// Buckets asked for so far; only grows (a resize rehashes every waiter).
std::atomic<std::size_t> futex_buckets{0};
// The kernel has no private hash (EINVAL): stop asking.
std::atomic<bool> no_private_hash{false};

} // namespace

void Gate::expect_waiters(std::size_t waiters) noexcept
{
    if (no_private_hash.load(std::memory_order_relaxed))
        return;
    // 2 buckets per waiter, at most 2^18 (16 MiB of kernel memory at 64 bytes each).
    const std::size_t want = std::bit_ceil(std::min<std::size_t>(std::max<std::size_t>(2 * waiters, 16), 1u << 18));
    std::size_t have = futex_buckets.load(std::memory_order_relaxed);
    while (have < want) {
        if (!futex_buckets.compare_exchange_weak(have, want, std::memory_order_relaxed))
            continue;
        if (::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, static_cast<unsigned long>(want), 0UL, 0UL) != 0)
            // EINVAL: a kernel before 6.17. ENOMEM: the hash stays as it is,
            // slower wake-ups but nothing wrong. Either way, not worth a log line.
            no_private_hash.store(errno == EINVAL, std::memory_order_relaxed);
        return;
    }
}

void Gate::open() noexcept
{
    if (state_.exchange(opened, std::memory_order_acq_rel) == sleeping)
        ::syscall(SYS_futex, word(state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void Gate::pass() noexcept
{
    int s = state_.load(std::memory_order_acquire);
    for (;;) {
        if (s == opened) {
            if (state_.compare_exchange_weak(s, closed, std::memory_order_acquire))
                return;
            continue;
        }
        if (s == closed && !state_.compare_exchange_weak(s, sleeping, std::memory_order_acquire))
            continue;
        // Returns when woken, at once when the state is no longer `sleeping`
        // (opened in between: EAGAIN), or on a signal (EINTR): all re-checked.
        ::syscall(SYS_futex, word(state_), FUTEX_WAIT_PRIVATE, sleeping, nullptr, nullptr, 0);
        s = state_.load(std::memory_order_acquire);
    }
}

} // namespace tcpproxy
