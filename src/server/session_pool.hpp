#pragma once
// The fixed pool of session slots, created at start-up: each slot is a
// Session and two threads with small stacks that wait for it (no thread is
// created per connection). When every slot is busy, acceptors block in
// reserve() and new connections wait in the kernel's listen backlog.
#include "session/session.hpp"
#include "tcpproxy/reaper.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <semaphore>
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

    std::size_t size() const { return slots_.size(); }
    std::size_t busy() const;

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

    Reaper& reaper_;
    std::vector<std::unique_ptr<Slot>> slots_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Slot*> free_;     // LIFO: the most recently used threads (warm stacks) go first
    std::size_t busy_ = 0;
    std::atomic<bool> quit_{false};
};

struct SessionPool::Slot : SessionHost {
    Slot(SessionPool& p, Reaper& reaper, long main_pid) : pool(p), session(*this, reaper, main_pid) {}
    void start_secondary(Session&) override { go_secondary.release(); }
    void finished(Session&, SessionRecord&& record) override { pool.finished(*this, std::move(record)); }

    SessionPool& pool;
    Session session;
    std::binary_semaphore go_primary{0};
    std::binary_semaphore go_secondary{0};
    boost::thread primary;
    boost::thread secondary;
    bool busy = false; // guarded by the pool's mutex
};

} // namespace tcpproxy
