#pragma once
// Waiting for a program the session started (exec handler or acp): its exit,
// its stderr lines (logged with the session id), a deadline, a stop.
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/core/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tcpproxy {

struct ChildEnd {
    enum class Kind { exited, timed_out, stopped } kind = Kind::exited;
    int wait_status = 0; // when exited
};

// Waits for `child` to exit, logging what it writes to `err` (read end, non-blocking)
// as "LABEL: line". deadline_ms < 0: no deadline. On the deadline, or when the
// session is stopped, the child gets SIGTERM, then SIGKILL after `grace_ms`,
// and is reaped before this returns.
ChildEnd watch_child(Child& child, Fd& err, const Activity& activity, std::int64_t deadline_ms,
                     std::int64_t grace_ms, const std::string& label, std::uint64_t session_id);

// A pipe for a child's stderr: {read end (non-blocking, ours), write end (the child's)}.
std::pair<Fd, Fd> stderr_pipe();

} // namespace tcpproxy
