#include "tcpproxy/core/wake.hpp"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace tcpproxy::wake {

namespace {

sigset_t poll_mask; // the thread mask with the wake signal removed

extern "C" void on_wake(int) {}

} // namespace

int signal_number() { return SIGRTMIN + 3; }

sigset_t control_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

void install()
{
    struct sigaction sa {};
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: the point is to interrupt
    ::sigaction(signal_number(), &sa, nullptr);

    sigset_t block = control_signals();
    sigaddset(&block, signal_number());
    ::pthread_sigmask(SIG_BLOCK, &block, &poll_mask);
    // Waiting in ppoll: the control signals stay blocked, only the wake one gets through.
    sigorset(&poll_mask, &poll_mask, &block);
    sigdelset(&poll_mask, signal_number());
}

int poll(pollfd* fds, nfds_t n, int timeout_ms)
{
    timespec ts{};
    timespec* tp = nullptr;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    return ::ppoll(fds, n, tp, &poll_mask);
}

void wake(pthread_t thread) { ::pthread_kill(thread, signal_number()); }

} // namespace tcpproxy::wake
