#pragma once
// What every running mode sets up first.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/log/log.hpp"

namespace tcpproxy {

// Signals: SIGPIPE ignored (a write to a closed peer is an error return, not
// death); SIGTERM/SIGINT/SIGHUP blocked for sigwait; the session wake signal
// installed. Call before any thread is created.
void prepare_process_signals();

// The syslog ident: the logname of the first service (the global value
// unless a section overrides it), else "tcpproxy".
log::Options log_options(const Config& config, bool to_stderr);

// The thread stack of each session thread: what the relay, the connect step
// and logging touch, with headroom (see the README's memory figures).
inline constexpr std::size_t session_stack_bytes = 64 * 1024;

} // namespace tcpproxy
