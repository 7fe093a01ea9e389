#pragma once
// The pool of session slots. Its capacity is fixed by max-sessions: no more
// slots (a Session and two threads with small stacks) are ever made. A slot
// is made the first time no made slot is free, and then kept: a daemon that
// serves 50 sessions at a time has about 50 slots whatever its capacity, so
// idle memory, start-up and shutdown do not grow with max-sessions, and
// neither does the cost of waking a parked thread (every waiting thread is a
// futex waiter in the kernel's shared hash; fewer waiters, shorter chains).
// Free slots are handed out most recently freed first, which keeps the hot
// set (and the threads that wake) small. A few slots are made at start so
// that the first burst does not wait for thread creation. When every slot is
// busy, acceptors block in reserve() and connections wait in the kernel's
// listen backlog. A reload may change the capacity; a lower one lets running
// sessions finish and keeps the spare threads parked.
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
    // Slots made at start: enough for a burst of new connections on an idle
    // daemon to be served while more are made (measured: test/bench).
    static constexpr std::size_t default_prestart = 8;
    // Sessions at once beyond which a primary gives back the deep pages of
    // its stack when its relay starts (a system call and a TLB flush, 10 % of
    // a short connection's CPU): below it, the pages kept are few.
    static constexpr std::size_t default_release_above = 64;

    // A pool for up to `sessions` at once; makes its first few slots now
    // (`prestart` of them at most). `stack_bytes` is each thread's stack.
    SessionPool(std::size_t sessions, std::size_t stack_bytes, Reaper& reaper, long main_pid,
                std::size_t prestart = default_prestart, std::size_t release_above = default_release_above);
    ~SessionPool();
    SessionPool(const SessionPool&) = delete;
    SessionPool& operator=(const SessionPool&) = delete;

    // The most sessions served at once.
    std::size_t size() const;

    // Slots made so far (each has two threads).
    std::size_t made() const;

    // Serves up to `sessions` at once from now on; returns the new limit.
    std::size_t resize(std::size_t sessions);

    // A free slot (made now if every made one is busy and the capacity allows),
    // waiting for one as long as needed; null once `cancelled` is true
    // (whoever sets it calls wake_waiters()). When the system refuses threads
    // the capacity drops to the slots made, with a log line.
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
    std::vector<std::unique_ptr<Slot>> slots_; // only grows, never past the capacity; guarded by mutex_
    std::size_t limit_ = 0;
    std::size_t making_ = 0; // slots being made outside the lock (counted in busy_)
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Slot*> free_;          // LIFO: the most recently used threads (warm stacks) go first
    std::atomic<std::size_t> busy_{0}; // changed under mutex_; read without it by start_secondary
    std::size_t release_above_;        // sessions at once beyond which a relaying primary gives back its deep stack
    std::atomic<bool> quit_{false};
};

struct SessionPool::Slot : SessionHost {
    Slot(SessionPool& p, Reaper& reaper, long main_pid) : pool(p), session(*this, reaper, main_pid) {}
    // On the primary thread, between the setup and its relay: wakes the
    // secondary and gives back the deep stack pages only the setup used.
    void start_secondary(Session&) override;
    void finished(Session&, SessionRecord&& record) override { pool.finished(*this, std::move(record)); }

    SessionPool& pool;
    Session session;
    Gate go_primary;
    Gate go_secondary;
    boost::thread primary;
    boost::thread secondary;
    bool busy = false;                             // guarded by the pool's mutex
    std::atomic<bool> retire{false};               // its threads could not all be created: the primary ends
    std::atomic<char*> primary_stack_low{nullptr}; // the primary's stack (lowest address), set by that thread
};

} // namespace tcpproxy
