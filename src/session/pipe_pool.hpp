#pragma once
// Pipes for splice(2), shared by all sessions. A direction takes a pipe only
// while it has data in flight and gives it back as soon as its source has
// nothing more to read, so an idle session holds no pipe (only its two
// sockets): that is what lets thousands of idle sessions fit the descriptor
// limit. Taking and returning costs one uncontended lock per burst of data,
// never one per chunk.
#include "tcpproxy/core/fd.hpp"

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace tcpproxy {

struct Pipe {
    Fd read;
    Fd write;
};

class PipePool {
public:
    static PipePool& instance();

    // A clean (empty) pipe, or none when no descriptor is left for one.
    std::optional<Pipe> acquire();
    // Only empty pipes may come back; a pipe holding bytes is simply closed.
    void release(Pipe pipe);

    // How many idle pipes are kept for reuse (the rest are closed).
    void set_capacity(std::size_t n);
    static constexpr int pipe_bytes = 1 << 18; // asked of F_SETPIPE_SZ; the kernel may give less

private:
    std::mutex mutex_;
    std::vector<Pipe> free_;
    std::size_t capacity_ = 32;
};

} // namespace tcpproxy
