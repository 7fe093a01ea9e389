#pragma once
// Whole messages with descriptors attached over a SOCK_SEQPACKET UNIX socket:
// one send is one message, descriptors travel as SCM_RIGHTS, received ones
// are CLOEXEC at once. A message or descriptor list that does not fit is
// refused whole (and what did arrive is closed), never half-read.
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace tcpproxy {

// A connected pair, both ends CLOEXEC and blocking.
std::pair<Fd, Fd> message_socket_pair();

// Sends `bytes` with `fds` attached. Returns 0 or the errno (EPIPE when the
// peer is gone: no SIGPIPE). `nonblocking`: EAGAIN instead of waiting for room.
int send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds,
                 bool nonblocking = false);

struct Received {
    enum class Kind { message, closed, would_block, broken } kind = Kind::message;
    std::vector<std::uint8_t> bytes;
    std::vector<Fd> fds;
    int err = 0;           // broken: the errno, or EMSGSIZE for a truncated message
};

// Receives one message with at most `max_fds` descriptors.
Received receive_message(int sock, std::size_t max_bytes, std::size_t max_fds, bool nonblocking = false);

} // namespace tcpproxy
