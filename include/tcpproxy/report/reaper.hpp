#pragma once
// The one place a session's bookkeeping happens, start to end, on one thread.
//
// Sessions report their start, their upstream connection and their end (the
// finished SessionRecord); the reaper queues these events and handles them in
// order on its own thread (on the caller's in inetd mode). For one session it
// does, in this order:
//   start:     session logfile opened (session handling active), status file
//              written (statdir set), start line logged;
//   connected: status file rewritten with the server;
//   end:       status file removed, end line logged, session logfile closed
//              and handed to the exit handlers (process), kept or removed.
// The session logfile is the reaper's: what the session logs with its id is
// kept by the log room (log::keep_session_lines) and written out here, after
// the start line and before the end line, so a session's thread never writes
// a file. Exit handlers run on ExitHandlerPool's threads, so a slow one never
// holds the reaper, a session thread or the accept loop.
#include "tcpproxy/report/session_log.hpp"
#include "tcpproxy/report/status_file.hpp"
#include "tcpproxy/config/session_record.hpp"
#include "tcpproxy/core/gate.hpp"
#include "tcpproxy/core/status.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/process/identity.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

class Reaper {
public:
    enum class Mode { threaded, inline_ }; // inline_: inetd mode, one session, no thread

    // `main_pid` names the files (status files, session logfiles) and is the
    // exit handler's PID variable. `limits` bound each exit handler.
    Reaper(Mode mode, long main_pid, HandlerLimits limits = {});
    ~Reaper();
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // On the session's thread: queue the event and return; never a file.
    // started() also has what the session logs from then on kept for its logfile.
    void started(const SessionRecord& r);
    void connected(const SessionRecord& r);
    void submit(SessionRecord r);

    // Handles what is queued, then stops the thread; sessions that never
    // ended lose their status files and logfiles; queued exit handlers run
    // (ExitHandlerPool::drain). Idempotent.
    void stop();

    std::uint64_t next_session_id();

    // Sessions whose start the reaper has handled and whose end it has not
    // (any thread may ask).
    std::size_t active() const { return active_.load(std::memory_order_relaxed); }
    // False when the reaper's thread has been busy with one batch for longer
    // than `limit` (stuck), for the service watchdog; waiting is healthy.
    bool healthy(std::chrono::milliseconds limit) const;

private:
    enum class Event : std::uint8_t { started, connected, ended };
    // What the reaper holds for a running session; its thread only.
    struct Running {
        std::unique_ptr<StatusFile> status;
        std::shared_ptr<SessionLog> log;
    };

    void post(Event e, SessionRecord r);
    void run();
    void handle(Event e, const SessionRecord& r);
    void begin(const SessionRecord& r);
    void connect(const SessionRecord& r);
    void end(const SessionRecord& r);
    // A line of the reaper's own: logged, and written to the session's logfile.
    // `fields`: the journal's structured values of the line, if any.
    void note(log::Severity severity, const std::string& text, const Running* running,
              const log::Fields* fields = nullptr);
    // What the session logged since the last look, into its logfile.
    void copy_session_lines(std::uint64_t id, const Running& running, bool last);
    static void write_lines(const Running& running, const std::vector<log::SessionLine>& lines);

    Mode mode_;
    long main_pid_;
    std::mutex mutex_;
    Gate wake_; // opened after queueing (and by kept session lines); the thread drains the whole queue per wake-up
    std::deque<std::pair<Event, SessionRecord>> queue_;
    bool stopping_ = false;
    bool stopped_ = false;
    std::atomic<std::uint64_t> ids_{0};
    std::atomic<std::size_t> active_{0};
    std::atomic<std::int64_t> busy_since_ms_{0}; // steady clock; 0 while the thread waits for work
    std::map<std::uint64_t, Running> running_;
    std::map<std::uint64_t, std::vector<log::SessionLine>> early_; // kept lines that came before their start
    ExitHandlerPool exits_;
    boost::thread thread_;
};

// The §7 log lines, as `key=value` pairs (pure; unit tested).
std::string session_start_line(const SessionRecord& r);
std::string session_end_line(const SessionRecord& r);

// One line of a session logfile: "2024-05-01 12:00:00.123456 notice: TEXT" (local time).
std::string session_log_line(std::chrono::system_clock::time_point when, log::Severity severity,
                             std::string_view message);

// What a session's status line says, from its record (pure; unit tested).
StatusLine status_line_of(const SessionRecord& r, long pid);

// Daemon start: removes what crashed earlier instances left in `statdir`
// (files whose PID is not running) and logs what it did.
void clean_stale_status_files(const std::string& statdir);

} // namespace tcpproxy
