#pragma once
// The one place a session's end is handled. Sessions report their start, their
// upstream connection and their end (the finished SessionRecord) to the
// reaper; observers registered here (the log lines now; status files, session
// logfiles, exit handlers later) see these events in order, each exactly once,
// on the reaper's own thread. So a slow exit handler never holds a session
// thread or the accept loop, and session threads never run the deep call
// chains of log formatting or file handling: their stacks stay a page or two.
#include "tcpproxy/core/gate.hpp"
#include "tcpproxy/config/session_record.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace tcpproxy {

class SessionObserver {
public:
    virtual ~SessionObserver() = default;
    // On the session's own thread, synchronously, just before started() is
    // queued: for what must exist before the session logs anything else (its
    // session logfile). Keep it short and shallow: session stacks are small.
    virtual void starting(const SessionRecord&) {}
    // The rest all on the reaper's thread (the caller's, when not threaded), in
    // this order for one session; started and ended exactly once, connected at
    // most once. Once the section is known (service may be null).
    virtual void started(const SessionRecord&) {}
    // Once the upstream server is connected.
    virtual void connected(const SessionRecord&) {}
    // The session is over; the record is final.
    virtual void ended(const SessionRecord&) {}
    // At shutdown, after the last session ended.
    virtual void shutdown() {}
};

class Reaper {
public:
    enum class Mode { threaded, inline_ }; // inline_: inetd mode, one session, no thread

    explicit Reaper(Mode mode);
    ~Reaper();
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Before the first session only.
    void add(std::shared_ptr<SessionObserver> observer);

    void started(const SessionRecord& r);
    void connected(const SessionRecord& r);
    void submit(SessionRecord r);

    // Handles what is queued, then stops the thread. Idempotent.
    void stop();

    std::uint64_t next_session_id();

private:
    enum class Event : std::uint8_t { started, connected, ended };
    void post(Event e, SessionRecord r);
    void run();
    void handle(Event e, const SessionRecord& r);

    Mode mode_;
    std::vector<std::shared_ptr<SessionObserver>> observers_;
    std::mutex mutex_;
    Gate wake_; // opened after queueing; the thread drains the whole queue per wake-up
    std::deque<std::pair<Event, SessionRecord>> queue_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> ids_{0};
    boost::thread thread_;
};

// The §7 log lines, as `key=value` pairs (pure; unit tested).
std::string session_start_line(const SessionRecord& r);
std::string session_end_line(const SessionRecord& r);

// Logs the start and end lines: the first observer every reaper has.
class SessionLogLines : public SessionObserver {
public:
    void started(const SessionRecord& r) override;
    void ended(const SessionRecord& r) override;
};

} // namespace tcpproxy
