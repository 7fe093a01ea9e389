#pragma once
// A configuration file's bytes on their way from the spawner to the daemon
// (spawn_protocol::ConfigText): on reload the spawner, still root, reads the
// file once (read_config_text, config_load.hpp), and the daemon parses
// exactly those bytes; nothing here reads the file. So a file only root
// can read still reloads, and the two can never adopt different versions of it.
#include "tcpproxy/core/fd.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace tcpproxy {

// An anonymous in-memory file holding `text`, sealed so that no holder of
// the descriptor can change, grow or shrink it. Throws std::system_error.
Fd sealed_text(std::string_view text);

// The contents of a file from sealed_text. Refuses (std::system_error) a
// descriptor whose contents could still change or are not `size` bytes.
std::string read_sealed_text(int fd, std::size_t size);

} // namespace tcpproxy
