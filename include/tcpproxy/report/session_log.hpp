#pragma once
// Session logfiles (reference §4.7) and their end: with session handling
// active, a session's own log lines also go to
// SESSION_DIR/LOGNAME.PID.SESSIONID.log (mode 0600, created with
// O_EXCL|O_NOFOLLOW: a planted file or symlink is refused, never followed).
// The reaper opens it and writes it; when the session ends, finish() applies
// `session-mode` and `exit-code`, on the ExitHandlerPool's threads when that
// may mean running the exit handler.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/status.hpp"
#include "tcpproxy/process/supervisor.hpp"

#include "tcpproxy/process/identity.hpp"

#include <boost/thread/thread.hpp>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy {

struct SessionLogOutcome {
    enum class Action { removed, kept, processed };
    Action action = Action::removed;
    std::optional<HandlerRun> handler; // set when the exit handler was tried
    std::vector<std::string> errors;   // "unlink(PATH): TEXT", a failed append, ...
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
    // A failed write is remembered for finish(), never thrown.
    void append(std::string_view line) noexcept;

    // No more lines: closes the file (later append() calls return at once) so
    // that a session waiting for finish() holds no descriptor. Idempotent.
    void close() noexcept;
    // No more lines, but the descriptor stays open: finish() rewinds it and
    // hands it to the exit handler as its stdin (the file is never reopened
    // by path, so nothing put at the path later is opened).
    void seal() noexcept;

    // The end of the session: with `status` in handling.exit_codes, `keep`
    // leaves the file and `process` runs handling.exit_handler with the file
    // on stdin and `env`, then removes the file (it is kept if the handler
    // could not be started at all, so the evidence survives); otherwise, or
    // when handling is inactive, the file is removed. Runs once; blocks for
    // at most limits.time while a handler runs.
    SessionLogOutcome finish(Status status, const SessionHandling& handling, const std::vector<std::string>& env,
                             const std::optional<Identity>& identity = std::nullopt, const HandlerLimits& limits = {},
                             const std::optional<HandlerRef>& handler = std::nullopt);

    const std::string& path() const { return path_; }

private:
    std::mutex mutex_;
    std::string path_;
    int fd_ = -1;
    bool finished_ = false;
    bool sealed_ = false;
    std::string append_error_;
};

// A session logfile waiting for its end: keep, process or remove.
struct ExitJob {
    std::shared_ptr<SessionLog> log;
    Status status = Status::ok;
    SessionHandling handling;
    std::vector<std::string> env;      // NAME=VALUE, all §5 variables
    std::optional<Identity> identity;  // the service's user
    std::optional<HandlerRef> handler; // the service's exit handler, for the spawner
    std::uint64_t session = 0;
};

// Finishes one session logfile (keep, process or remove) and logs how it went:
// the handler's exit status, its stderr lines, errors. Blocks while a handler runs.
void finish_session_log(ExitJob& job, const HandlerLimits& limits = {});

// Where session logfiles are finished when that may mean running the exit
// handler (reference §4.7), which may take up to HandlerLimits::time (60 s).
// A few threads of their own (at most `threads`, started when first needed)
// take jobs from a queue of at most `max_queued`. A job beyond that is not
// run: its logfile is kept and a warning says so, so a flood of failing
// sessions can neither grow memory without bound nor lose evidence. A queued
// job holds its logfile's descriptor only when its handler will run (at most
// max_queued descriptors); the others are closed before queueing. No thread
// of the pool opens a path, so drain() never waits on a blocked open(). At
// shutdown, drain() runs what is queued within one overall bound
// (shutdown_budget): handlers still queued when it is spent are not started
// and their logfiles are kept.
class ExitHandlerPool {
public:
    static constexpr std::size_t default_threads = 4;
    static constexpr std::size_t default_max_queued = 1024;
    static constexpr std::chrono::seconds shutdown_budget{60};

    // threads == 0: submit() runs the job itself (inetd mode: one session).
    explicit ExitHandlerPool(std::size_t threads = default_threads, std::size_t max_queued = default_max_queued,
                             HandlerLimits limits = {});
    ~ExitHandlerPool();
    ExitHandlerPool(const ExitHandlerPool&) = delete;
    ExitHandlerPool& operator=(const ExitHandlerPool&) = delete;

    // Never waits for a handler (except with threads == 0).
    void submit(ExitJob job);
    // Runs or keeps what is queued (see above), then joins the threads. Idempotent.
    void drain();

private:
    void run();

    std::size_t max_threads_;
    std::size_t max_queued_;
    HandlerLimits limits_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ExitJob> queue_;
    std::size_t idle_ = 0;
    bool draining_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::vector<boost::thread> threads_;
};

} // namespace tcpproxy
