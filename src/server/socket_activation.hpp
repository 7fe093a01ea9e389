#pragma once
// systemd socket activation through libsystemd's sd_listen_fds(3): LISTEN_PID
// names the process meant, LISTEN_FDS how many descriptors were passed,
// numbered from 3. adopt_activated_sockets() (tcpproxy/server/server.hpp)
// takes them at start; the listeners pick theirs up here.
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tcpproxy {

struct ActivatedSocket {
    Fd fd;
    std::uint16_t port = 0; // its local port (getsockname)
    std::string address;    // its local address and port, for the log
};

// The listening sockets adopt_activated_sockets() kept, for the ports of the
// first configuration; taken once (later calls return nothing).
std::vector<ActivatedSocket> take_activated_listeners();

} // namespace tcpproxy
