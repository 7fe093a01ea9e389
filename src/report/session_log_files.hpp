#pragma once
// Session logfiles (reference §4.7) around the reaper: with session handling
// active, a SessionLog is opened on the session's own thread before it logs
// anything (SessionLogOpener::starting), every message logged with that
// session's id is appended to it (the log's session tap), and at the end,
// after the end line has been logged, SessionLogCloser hands it to the exit
// handler pool (process, status selected) or finishes it on the spot (keep,
// remove: no waiting involved).
#include "exit_handler_pool.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/report/session_log.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace tcpproxy {

// The open session logfiles by session id; thread-safe.
class SessionLogs {
public:
    void open(const SessionRecord& r, long pid);
    void append(std::uint64_t session, log::Severity severity, std::string_view message);
    // Removes it from the table: nothing is appended from then on.
    std::shared_ptr<SessionLog> take(std::uint64_t session);

private:
    std::mutex mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<SessionLog>> logs_;
};

// One line of a session logfile: "2024-05-01 12:00:00.123456 notice: TEXT" (local time).
std::string session_log_line(std::chrono::system_clock::time_point when, log::Severity severity,
                             std::string_view message);

class SessionLogOpener : public SessionObserver {
public:
    SessionLogOpener(std::shared_ptr<SessionLogs> logs, long pid) : logs_(std::move(logs)), pid_(pid) {}
    void starting(const SessionRecord& r) override;

private:
    std::shared_ptr<SessionLogs> logs_;
    long pid_;
};

// Register after the observer that logs the end line, so the file holds it.
class SessionLogCloser : public SessionObserver {
public:
    // handler_threads == 0: handlers run on the reaper's (the caller's) thread.
    SessionLogCloser(std::shared_ptr<SessionLogs> logs, long pid, std::size_t handler_threads);
    void ended(const SessionRecord& r) override;
    void shutdown() override;

private:
    std::shared_ptr<SessionLogs> logs_;
    long pid_;
    ExitHandlerPool pool_;
};

} // namespace tcpproxy
