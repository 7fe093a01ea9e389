#pragma once
// What every running mode (standalone, inetd) sets up first: signals, the
// log, and giving up root (reference §4.5, tcpproxy(1) SECURITY).
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/process/spawner.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace tcpproxy {

// Signals: SIGPIPE ignored (a write to a closed peer is an error return, not
// death); SIGTERM/SIGINT/SIGHUP blocked for sigwait; the session wake signal
// installed. Call before any thread is created.
void prepare_process_signals();

// The syslog ident: the logname of the first service (the global value
// unless a section overrides it), else "tcpproxy".
log::Options log_options(const Config& config, bool to_stderr);

// The thread stack of each session thread: what the relay, the connect step
// and logging touch, with headroom. Small on purpose: the pool creates two
// threads per session slot at start-up, for max-sessions slots.
inline constexpr std::size_t session_stack_bytes = 64 * 1024;

// Standalone, after binding, daemonizing and writing the pidfile, before any
// thread starts. Started as root: forks the spawner (which takes over the
// pidfile's removal: `pidfile` is its path, the caller must no longer remove
// it), routes programs and binds through it, and becomes the process user,
// unless that is an explicit root (then it stays root, with a warning).
// Started as another user: does nothing and returns null.
// Throws std::system_error when a step fails (the daemon must not run on).
std::unique_ptr<Spawner> drop_privileges_standalone(const CommandLine& cl, const Config& config,
                                                    const std::string& pidfile);

// inetd mode, right after start: as root, becomes the user of the service
// that serves `client` (the default user when none matches). Throws on failure.
void drop_privileges_inetd(const Config& config, int client);

} // namespace tcpproxy
