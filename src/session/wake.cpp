#include "session/wake.hpp"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace tcpproxy::wake {

namespace {

sigset_t poll_mask; // the thread mask with the wake signal removed

extern "C" void on_wake(int) {}

} // namespace

int signal_number() { return SIGRTMIN + 3; }

void install()
{
    struct sigaction sa {};
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: the point is to interrupt
    ::sigaction(signal_number(), &sa, nullptr);

    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, signal_number());
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &block, &poll_mask);
    sigaddset(&poll_mask, SIGTERM);
    sigaddset(&poll_mask, SIGINT);
    sigaddset(&poll_mask, SIGHUP);
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
