#include "tcpproxy/core/gate.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tcpproxy {

namespace {

static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free,
              "the futex word is the atomic's own storage");

int* word(std::atomic<int>& a) { return reinterpret_cast<int*>(&a); }

} // namespace

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
