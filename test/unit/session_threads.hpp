#pragma once
// Threads that run session code in a unit test, set up as the session pool's
// are: the wake signal has its (empty) handler and is blocked outside the
// ppoll of core/wake, so that a wake-up sent before a thread sleeps is kept
// pending instead of lost. The control signals are left alone (wake::install
// would block them in the whole test process).
#include "tcpproxy/core/wake.hpp"

#include <pthread.h>
#include <signal.h>

namespace tcpproxy::test {

inline void prepare_wake_signal()
{
    static const bool done = [] {
        struct sigaction sa {};
        sa.sa_handler = [](int) {};
        sigemptyset(&sa.sa_mask);
        ::sigaction(wake::signal_number(), &sa, nullptr);
        return true;
    }();
    (void)done;
}

// In the thread that will run session code.
inline void block_wake_signal()
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, wake::signal_number());
    ::pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

} // namespace tcpproxy::test
