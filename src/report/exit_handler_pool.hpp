#pragma once
// Where session logfiles are finished when that may mean running the exit
// handler (reference §4.7). A handler may take up to HandlerLimits::time
// (60 s); the reaper thread must not wait for it, or every other session's
// end line, status file removal and logfile would wait too. Nor do the
// session's own threads run it: the reaper sees a session's end after its
// slot is free, and the logfile must hold the session's end line before the
// handler reads it, which only the reaper can guarantee.
//
// So a few threads of their own (at most `threads`, started when first
// needed) take jobs from a queue of at most `max_queued`. A job beyond that
// is not run: its logfile is kept and a warning says so, so a flood of
// failing sessions can neither grow memory without bound nor lose evidence.
// Queued jobs hold no descriptor (the logfile is closed before queueing).
// At shutdown, drain() runs what is queued within one overall bound
// (shutdown_budget): handlers still queued when it is spent are not started
// and their logfiles are kept.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/report/session_log.hpp"
#include "tcpproxy/core/status.hpp"

#include <boost/thread/thread.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

struct ExitJob {
    std::shared_ptr<SessionLog> log;
    Status status = Status::ok;
    SessionHandling handling;
    std::vector<std::string> env;             // NAME=VALUE, all §5 variables
    std::optional<Identity> identity;         // the service's user
    std::uint64_t session = 0;
};

// Finishes one session logfile (keep, process or remove) and logs how it went:
// the handler's exit status, its stderr lines, errors. Blocks while a handler runs.
void finish_session_log(ExitJob& job, const HandlerLimits& limits = {});

class ExitHandlerPool {
public:
    static constexpr std::size_t default_threads = 4;
    static constexpr std::size_t default_max_queued = 1024;
    static constexpr std::chrono::seconds shutdown_budget{60};

    // threads == 0: submit() runs the job itself (inetd mode: one session).
    explicit ExitHandlerPool(std::size_t threads = default_threads, std::size_t max_queued = default_max_queued);
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
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<ExitJob> queue_;
    std::size_t idle_ = 0;
    bool draining_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::vector<boost::thread> threads_;
};

} // namespace tcpproxy
