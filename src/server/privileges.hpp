#pragma once
// Giving up root at start (reference §4.5, tcpproxy(1) SECURITY).
#include "tcpproxy/process/spawner.hpp"
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config.hpp"

#include <memory>
#include <string>

namespace tcpproxy {

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
