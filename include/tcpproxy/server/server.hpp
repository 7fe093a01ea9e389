#pragma once
// Entry points of the running proxy (src/server/). main() picks one.
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config.hpp"

#include <string>
#include <vector>

namespace tcpproxy {

// Standalone daemon on every configured port. Forks into the background
// unless -d; returns the process exit status. `cl` is kept so that a SIGHUP
// reload can re-apply the command-line overrides to the re-read file.
int run_standalone(const CommandLine& cl, ConfigPtr config);

// inetd mode: the connection is stdin (fd 0). Serves it with the matching
// section and returns the session's status number (§6).
int run_inetd(const CommandLine& cl, ConfigPtr config);

// Closes every descriptor above 2 that we were started with (an fd on
// /etc/shadow left open by the parent would otherwise reach the unprivileged
// daemon), except the sockets systemd passes (LISTEN_FDS from 3, when
// LISTEN_PID is ours). inetd's connection is fd 0 and stays. Called first
// thing in a running mode, before anything of ours is open.
void close_inherited_descriptors();

// systemd socket activation (the sd_listen_fds protocol: LISTEN_PID,
// LISTEN_FDS, descriptors from 3), called first thing: listening sockets are
// kept for run_standalone, which uses them for the configured ports they are
// bound to instead of binding; a passed connection (Accept=yes) becomes stdin
// for inetd mode. Returns what was passed but not usable, for a warning.
std::vector<std::string> adopt_activated_sockets();

// True when fd is a connected TCP socket (how inetd/xinetd/systemd Accept=yes start us).
bool is_connected_tcp_socket(int fd);

} // namespace tcpproxy
