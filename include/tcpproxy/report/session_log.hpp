#pragma once
// Session logfiles and the exit handler (reference §4.7): with session
// handling active, a session's own log lines also go to
// SESSION_DIR/LOGNAME.PID.SESSIONID.log (mode 0600, created with
// O_EXCL|O_NOFOLLOW: a planted file or symlink is refused, never followed).
// When the session ends, finish() applies `session-mode` and `exit-code`.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/status.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy {

// How one exit handler run went; the caller logs it.
struct HandlerRun {
    bool started = false;                 // false: `error` says why it could not run
    std::optional<int> exit_code;         // it exited by itself
    std::optional<int> signal;            // it was killed by this signal
    bool timed_out = false;               // killed (SIGKILL, its process group) after the time limit
    std::vector<std::string> stderr_lines; // at most max_lines, each at most max_line_bytes, control bytes as '?'
    std::string error;                    // "execve(PATH): TEXT", "setresuid(65534): TEXT", "pipe2: TEXT"
};

struct HandlerLimits {
    // Bound on the handler's run time: it is killed with SIGKILL (with its
    // process group) at the end of it.
    std::chrono::milliseconds time{std::chrono::seconds(60)};
    std::size_t max_lines = 100;          // further stderr lines are counted, not kept
    std::size_t max_line_bytes = 1000;
};

// Runs argv[0] (an absolute path) with argv, exactly `env` as its
// environment (NAME=VALUE strings), `stdin_fd` as stdin, stdout on /dev/null
// and stderr captured, in its own process group, with default signal mask and
// dispositions and no other descriptor. Started like every program, by
// launch: as `identity` (the service's user) through the privileged spawner
// when there is one, else with our own identity; nullopt (a session that
// matched no service) always with our own. Always reaps (or has the spawner
// reap) the child before returning.
HandlerRun run_exit_handler(const std::vector<std::string>& argv, int stdin_fd, const std::vector<std::string>& env,
                            const std::optional<Identity>& identity, const HandlerLimits& limits = {});

struct SessionLogOutcome {
    enum class Action { removed, kept, processed };
    Action action = Action::removed;
    std::optional<HandlerRun> handler;    // set when the exit handler was tried
    std::vector<std::string> errors;      // "unlink(PATH): TEXT", a failed append, ...
};

class SessionLog {
public:
    // Creates DIR/LOGNAME.PID.SESSIONID.log (the status file name plus ".log").
    // Throws std::system_error naming the call and the path.
    SessionLog(const std::string& dir, const std::string& logname, pid_t pid, std::uint64_t session_id);
    // Without finish(), the file is removed.
    ~SessionLog();
    SessionLog(const SessionLog&) = delete;
    SessionLog& operator=(const SessionLog&) = delete;

    // One log line (a newline is added; embedded CR/LF become blanks).
    // Thread-safe; a failed write is remembered for finish(), never thrown.
    void append(std::string_view line) noexcept;

    // No more lines: closes the file (later append() calls return at once) so
    // that a session waiting for finish() holds no descriptor. Idempotent.
    void close() noexcept;

    // The end of the session: with `status` in handling.exit_codes, `keep`
    // leaves the file and `process` runs handling.exit_handler with the file
    // on stdin and `env`, then removes the file (it is kept if the handler
    // could not be started at all, so the evidence survives); otherwise, or
    // when handling is inactive, the file is removed. Runs once; blocks for
    // at most limits.time while a handler runs.
    SessionLogOutcome finish(Status status, const SessionHandling& handling, const std::vector<std::string>& env,
                             const std::optional<Identity>& identity = std::nullopt, const HandlerLimits& limits = {});

    const std::string& path() const { return path_; }

private:
    std::mutex mutex_;
    std::string path_;
    int fd_ = -1;
    bool finished_ = false;
    std::string append_error_;
};

} // namespace tcpproxy
