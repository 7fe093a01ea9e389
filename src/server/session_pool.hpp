#pragma once
// The pool of session slots, created at start-up: each slot is a Session and
// two threads with small stacks that wait for it, so serving a connection
// creates no thread (a captured session's writer does start one of its own,
// report/capture). When `limit` slots are busy, acceptors block in reserve()
// and new connections wait in the kernel's listen backlog. A reload may change
// the limit: more slots are created at once; a lower limit lets running
// sessions finish and keeps the spare threads idle.
#include "tcpproxy/session/session.hpp"
#include "tcpproxy/core/gate.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace tcpproxy {

class SessionPool {
public:
    struct Slot;

    // Creates up to `sessions` slots (fewer, with a log line, when the system
    // refuses more threads); `stack_bytes` is each thread's stack.
    SessionPool(std::size_t sessions, std::size_t stack_bytes, Reaper& reaper, long main_pid);
    ~SessionPool();
    SessionPool(const SessionPool&) = delete;
    SessionPool& operator=(const SessionPool&) = delete;

    // The most sessions served at once.
    std::size_t size() const;

    // Serves up to `sessions` at once from now on (creating slots as needed,
    // fewer with a log line when the system refuses threads); returns the new limit.
    std::size_t resize(std::size_t sessions);

    // A free slot, waiting for one as long as needed; null once `cancelled`
    // is true (whoever sets it calls wake_waiters()).
    Slot* reserve(const std::atomic<bool>& cancelled);
    void unreserve(Slot* slot);
    // Starts the session on the reserved slot.
    void launch(Slot* slot, SessionStart start);
    void wake_waiters();

    // Ends every running session with `status` and waits up to `grace` for
    // them to finish; true when none is left.
    bool stop_sessions(Status status, const std::string& reason, std::chrono::milliseconds grace);

private:
    void finished(Slot& slot, SessionRecord&& record);
    // A slot with its two threads, or null when a thread cannot be created.
    std::unique_ptr<Slot> make_slot();

    Reaper& reaper_;
    std::size_t stack_bytes_;
    long main_pid_;
    std::vector<std::unique_ptr<Slot>> slots_; // only grows; guarded by mutex_ once threads run
    std::size_t limit_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Slot*> free_;     // LIFO: the most recently used threads (warm stacks) go first
    std::size_t busy_ = 0;
    std::atomic<bool> quit_{false};
};

struct SessionPool::Slot : SessionHost {
    Slot(SessionPool& p, Reaper& reaper, long main_pid) : pool(p), session(*this, reaper, main_pid) {}
    void start_secondary(Session&) override { go_secondary.open(); }
    void finished(Session&, SessionRecord&& record) override { pool.finished(*this, std::move(record)); }

    SessionPool& pool;
    Session session;
    Gate go_primary;
    Gate go_secondary;
    boost::thread primary;
    boost::thread secondary;
    bool busy = false; // guarded by the pool's mutex
    std::atomic<bool> retire{false}; // its threads could not all be created: the primary ends
};

} // namespace tcpproxy
