#pragma once
// The one place a session's end is handled. Sessions report their start and
// their upstream connection as they happen (on the session's thread) and hand
// their finished SessionRecord to the reaper; observers registered here (the
// end log line now; status files, session logfiles, exit handlers later) see
// every session's end exactly once, on the reaper's own thread, so that a slow
// exit handler never holds a session thread or the accept loop.
#include "tcpproxy/session_record.hpp"

#include <boost/thread/thread.hpp>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace tcpproxy {

class SessionObserver {
public:
    virtual ~SessionObserver() = default;
    // On the session's thread, once the section is known (service may be null).
    virtual void started(const SessionRecord&) {}
    // On the session's thread, once the upstream server is connected.
    virtual void connected(const SessionRecord&) {}
    // On the reaper's thread (or the caller's, when not threaded), exactly once.
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
    void run();
    void finish(const SessionRecord& r);

    Mode mode_;
    std::vector<std::shared_ptr<SessionObserver>> observers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<SessionRecord> queue_;
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
