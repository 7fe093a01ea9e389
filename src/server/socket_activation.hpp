#pragma once
// systemd socket activation, the sd_listen_fds protocol (without libsystemd):
// LISTEN_PID names the process meant, LISTEN_FDS how many descriptors were
// passed, numbered from 3. adopt_activated_sockets() (tcpproxy/server.hpp)
// takes them at start; the listeners pick theirs up here.
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tcpproxy {

struct ActivatedSocket {
    Fd fd;
    std::uint16_t port = 0;   // its local port (getsockname)
    std::string address;      // its local address and port, for the log
};

// The passed sockets: listening TCP sockets go to `listening`; a single
// connected TCP socket (Accept=yes without StandardInput=socket) to
// `connection`; anything else is closed and named in `ignored`. Clears the
// variables so that no handler program inherits them, and marks every
// descriptor close-on-exec. Empty when LISTEN_PID is not this process.
struct ActivatedSockets {
    std::vector<ActivatedSocket> listening;
    Fd connection;
    std::vector<std::string> ignored;
};
ActivatedSockets take_activated_sockets();

// The listening sockets adopt_activated_sockets() kept, for the ports of the
// first configuration; taken once (later calls return nothing).
std::vector<ActivatedSocket> take_activated_listeners();

} // namespace tcpproxy
