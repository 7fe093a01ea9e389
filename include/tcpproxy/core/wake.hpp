#pragma once
// Waking a session's threads wherever they block.
//
// Every blocking point of a session is a ppoll() that unblocks one signal
// (the wake signal) for its duration only; everywhere else the signal stays
// blocked. A thread that wants another to notice something sets a flag, then
// sends it the wake signal: if the target is inside ppoll() it returns EINTR
// at once; if it is about to enter, the signal stays pending and ppoll()
// returns EINTR as it starts. No wake-up is lost, no descriptor is spent on
// it, and nothing is sent to the peers (unlike shutdown(), which would send a
// FIN where a reset is wanted).
#include <poll.h>
#include <pthread.h>
#include <signal.h>

namespace tcpproxy::wake {

// Installs the (empty) handler and blocks the wake signal, together with the
// signals the main thread waits for (SIGTERM, SIGINT, SIGHUP), in the calling
// thread; threads created afterwards inherit the mask. Call before any thread.
void install();

// The signals the main thread waits for with sigwait(): SIGTERM, SIGINT, SIGHUP.
sigset_t control_signals();

int signal_number();

// ppoll() with the wake signal unblocked; timeout_ms < 0 waits for ever.
int poll(pollfd* fds, nfds_t n, int timeout_ms);

void wake(pthread_t thread);

} // namespace tcpproxy::wake
