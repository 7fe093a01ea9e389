#pragma once
// A configuration file's bytes on their way from the spawner to the daemon
// (spawn_protocol::ConfigText): on reload the spawner, still root, reads the
// file once, and the daemon parses exactly those bytes. So a file only root
// can read still reloads, and the two can never adopt different versions of it.
#include "tcpproxy/core/fd.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace tcpproxy {

struct FileText {
    std::string text;
    int err = 0;      // not 0: the file could not be read,
    std::string why;  // and this says how ("open: Permission denied", "larger than 16 MiB")
};

// Reads at most `limit` bytes of `path`. Never waits: the spawner serves
// every program of the daemon, so a FIFO without data is a read error, not a hang.
FileText read_file_text(const std::string& path, std::size_t limit);

// An anonymous in-memory file holding `text`, sealed so that no holder of
// the descriptor can change, grow or shrink it. Throws std::system_error.
Fd sealed_text(std::string_view text);

// The contents of a file from sealed_text. Refuses (std::system_error) a
// descriptor whose contents could still change or are not `size` bytes.
std::string read_sealed_text(int fd, std::size_t size);

} // namespace tcpproxy
