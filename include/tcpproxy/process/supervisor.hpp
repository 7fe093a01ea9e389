#pragma once
// One child program from start to reap, the same way for every program the
// proxy runs: exec handlers and acp programs (on the session's thread, their
// stderr logged as it comes) and exit handlers (their stderr collected for
// the caller). A Supervisor starts the program through launch (the privileged
// spawner when there is one, else directly), reads its stderr into lines that
// are bounded and cleaned with text::clean, ends it at a deadline or when its
// session stops (SIGTERM, then SIGKILL after a grace period, or SIGKILL at
// once), and always reaps it before wait() returns.
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tcpproxy {

// How a supervised program is watched.
struct Supervision {
    const Activity* activity = nullptr; // ends the program once its session is stopping
    std::int64_t deadline_ms = -1;      // on the Activity::now_ms() clock; < 0: none
    std::int64_t grace_ms = 0;          // SIGTERM, then SIGKILL this much later; 0: SIGKILL at once
    std::size_t max_lines = std::numeric_limits<std::size_t>::max(); // further lines are only counted
    std::size_t max_line_bytes = 1000;                               // the rest of a longer line is dropped
    // Each stderr line as it comes (a session logs it at once); without it,
    // the lines are kept in ChildEnd::lines.
    std::function<void(const std::string& line)> on_line;
};

struct ChildEnd {
    // timed_out also when watching itself failed: `error` then names the call.
    enum class Kind { exited, timed_out, stopped } kind = Kind::exited;
    int wait_status = 0;            // as waitpid gives it, also when it was killed
    std::vector<std::string> lines; // kept stderr lines, then "(N more lines not shown)"
    std::string error;              // "poll: TEXT" when watching failed (the program was killed)
};

class Supervisor {
public:
    // Starts `spec` (its stderr replaced by a pipe of ours) as `user` through
    // launch::program, or with our own identity when there is no user. Not
    // starting (no pipe, exec refused, the spawner's "not allowed") is an
    // outcome, the message naming the call: "execve(/x): No such file or directory".
    static Result<Supervisor> start(Child::Spec spec, const std::optional<Identity>& user);

    // Watches until the program has exited or was ended; reaps it.
    ChildEnd wait(const Supervision& how);

    pid_t pid() const { return child_.pid(); }

private:
    Supervisor(Child child, Fd err) : child_(std::move(child)), err_(std::move(err)) {}
    Child child_;
    Fd err_;
};

// A session's program (exec handler, acp), started with Supervisor::start:
// each stderr line logged at once (info) with the session id,
// "session=ID LABEL: line"; ended at the
// deadline (deadline_ms < 0: none) or when the session stops, with SIGTERM and
// SIGKILL `grace_ms` later.
ChildEnd watch_session_program(Supervisor& program, const Activity& activity, std::int64_t deadline_ms,
                               std::int64_t grace_ms, const std::string& label, std::uint64_t session_id);

// How one exit handler run went; the caller logs it.
struct HandlerRun {
    bool started = false;                  // false: `error` says why it could not run
    std::optional<int> exit_code;          // it exited by itself
    std::optional<int> signal;             // it was killed by this signal
    bool timed_out = false;                // killed (SIGKILL, its process group) after the time limit
    std::vector<std::string> stderr_lines; // at most max_lines, each at most max_line_bytes, cleaned
    std::string error;                     // "execve(PATH): TEXT", "setresuid(65534): TEXT", "pipe2: TEXT"
};

struct HandlerLimits {
    // Bound on the handler's run time: it is killed with SIGKILL (with its
    // process group) at the end of it.
    std::chrono::milliseconds time{std::chrono::seconds(60)};
    std::size_t max_lines = 100; // further stderr lines are counted, not kept
    std::size_t max_line_bytes = 1000;
};

// Runs argv[0] (an absolute path) with argv, exactly `env` as its environment
// (NAME=VALUE strings), `stdin_fd` as stdin, stdout on /dev/null and stderr
// collected, in its own process group, with no other descriptor: as
// `identity` (the service's user), or with our own when there is none (a
// session that matched no service).
// `handler` names it for the privileged spawner (launch::program).
HandlerRun run_exit_handler(const std::vector<std::string>& argv, int stdin_fd, const std::vector<std::string>& env,
                            const std::optional<Identity>& identity, const HandlerLimits& limits = {},
                            const std::optional<HandlerRef>& handler = std::nullopt);

} // namespace tcpproxy
