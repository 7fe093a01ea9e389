#pragma once
// One direction of a session: bytes from `from` to `to` until end of stream,
// an error, the idle timeout or a stop. Both descriptors are non-blocking;
// the only place this blocks is Activity::wait (a wakeable ppoll).
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/report/capture.hpp"

#include <cstdint>

namespace tcpproxy {

struct RelayOutcome {
    enum class Kind {
        eof,          // `from` ended its stream; `to` has been shut down for writing
        read_failed,  // `from` failed (reset): err says how
        write_failed, // `to` failed (reset, broken pipe)
        idle,         // nothing moved in either direction for the timeout
        stopped,      // the session was stopped from elsewhere
    };
    Kind kind = Kind::eof;
    int err = 0;
};

// Copies with splice(2) through a pipe from the shared pool, falling back to
// read/write when splice is not possible. `bytes` counts what reached `to`.
// With `capture`, always read/write (the bytes must pass through our memory to
// be recorded): each piece is recorded as `dir` once it has been sent.
RelayOutcome relay(int from, int to, Activity& activity, std::uint64_t& bytes, CaptureWriter* capture = nullptr,
                   Direction dir = Direction::client_to_server);

} // namespace tcpproxy
