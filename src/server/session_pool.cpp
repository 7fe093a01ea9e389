#include "session_pool.hpp"

#include "tcpproxy/log/log.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace tcpproxy {

SessionPool::SessionPool(std::size_t sessions, std::size_t stack_bytes, Reaper& reaper, long main_pid,
                         std::size_t prestart, std::size_t release_above)
    : reaper_(reaper), stack_bytes_(stack_bytes), main_pid_(main_pid), limit_(sessions), release_above_(release_above)
{
    // No thread runs a session yet: the lock is for the invariant, not a race.
    std::lock_guard lock(mutex_);
    while (slots_.size() < std::min(prestart, sessions)) {
        auto slot = make_slot();
        if (!slot)
            break;
        // Handed out from the back: the first made goes first.
        free_.insert(free_.begin(), slot.get());
        slots_.push_back(std::move(slot));
    }
    Gate::expect_waiters(2 * slots_.size());
}

namespace {

// The lowest address of the calling thread's stack (null if unknown).
char* own_stack_low()
{
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) != 0)
        return nullptr;
    void* addr = nullptr;
    std::size_t size = 0;
    const int rc = ::pthread_attr_getstack(&attr, &addr, &size);
    ::pthread_attr_destroy(&attr);
    return rc == 0 ? static_cast<char*>(addr) : nullptr;
}

// Room kept below the caller's frame for the relay's own calls (relay ->
// Activity::wait -> ppoll: about 1.5 KiB, measured with test/bench).
constexpr std::uintptr_t relay_stack_room = 2048;

// Gives back the pages of the calling thread's stack (lowest address
// `stack_low`) below the caller's frame, less relay_stack_room. A session's
// setup (logging its start line, connecting) reaches a page deeper than its
// relay ever does; a held session would keep that page for as long as it
// lasts (4 KiB a session: 16 % of a held session's memory at 8,000). Below
// the current frame the stack is dead, and a page given back is a zero page
// again at its next touch: never a correctness matter.
void release_dead_stack(char* stack_low)
{
    static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const char here = 0;
    const auto low = reinterpret_cast<std::uintptr_t>(stack_low);
    const auto end = (reinterpret_cast<std::uintptr_t>(&here) - relay_stack_room) & ~(page - 1);
    if (end > low)
        ::madvise(stack_low, end - low, MADV_DONTNEED);
}

} // namespace

void SessionPool::Slot::start_secondary(Session&)
{
    go_secondary.open();
    // Only worth its cost when many sessions run at once.
    if (pool.busy_.load(std::memory_order_relaxed) <= pool.release_above_)
        return;
    if (char* const stack = primary_stack_low.load(std::memory_order_relaxed)) // this thread's own
        release_dead_stack(stack);
}

std::unique_ptr<SessionPool::Slot> SessionPool::make_slot()
{
    boost::thread::attributes attrs;
    attrs.set_stack_size(stack_bytes_);
    auto slot = std::make_unique<Slot>(*this, reaper_, main_pid_);
    Slot* s = slot.get();
    try {
        s->primary = boost::thread(attrs, [this, s] {
            s->primary_stack_low.store(own_stack_low(), std::memory_order_release);
            for (;;) {
                s->go_primary.pass();
                if (quit_.load(std::memory_order_acquire) || s->retire.load(std::memory_order_acquire))
                    return;
                s->session.run_primary();
            }
        });
        s->secondary = boost::thread(attrs, [this, s] {
            for (;;) {
                s->go_secondary.pass();
                if (quit_.load(std::memory_order_acquire))
                    return;
                s->session.run_secondary();
            }
        });
    } catch (const std::exception& e) {
        if (s->primary.joinable()) {
            // This slot's flag, not the pool's: other slots are serving.
            s->retire.store(true, std::memory_order_release);
            s->go_primary.open();
            s->primary.join();
        }
        log::error("session pool: could not create more threads (" + std::string(e.what()) + ")");
        return nullptr;
    }
    return slot;
}

std::size_t SessionPool::resize(std::size_t sessions)
{
    {
        std::lock_guard lock(mutex_);
        limit_ = sessions;
    }
    cv_.notify_all(); // acceptors waiting for a slot may go on under a higher limit
    return sessions;
}

SessionPool::~SessionPool()
{
    quit_.store(true, std::memory_order_release);
    for (auto& s : slots_) {
        s->go_primary.open();
        s->go_secondary.open();
    }
    for (auto& s : slots_) {
        s->primary.join();
        s->secondary.join();
    }
}

std::size_t SessionPool::size() const
{
    std::lock_guard lock(mutex_);
    return limit_;
}

std::size_t SessionPool::made() const
{
    std::lock_guard lock(mutex_);
    return slots_.size();
}

SessionPool::Slot* SessionPool::reserve(const std::atomic<bool>& cancelled)
{
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] {
            return (busy_ < limit_ && (!free_.empty() || slots_.size() + making_ < limit_)) || cancelled.load();
        });
        if (cancelled.load())
            return nullptr;
        if (!free_.empty()) {
            Slot* s = free_.back();
            free_.pop_back();
            s->busy = true;
            ++busy_;
            return s;
        }
        // Every made slot is busy and the capacity allows one more: make it
        // without the lock, so that finishing sessions are not held up.
        ++making_;
        ++busy_;
        lock.unlock();
        auto slot = make_slot();
        lock.lock();
        --making_;
        if (slot) {
            Slot* s = slot.get();
            s->busy = true;
            slots_.push_back(std::move(slot));
            const std::size_t threads = 2 * slots_.size();
            lock.unlock();
            Gate::expect_waiters(threads);
            return s;
        }
        --busy_;
        // Until a reload sets the capacity again: retrying on every
        // connection would log and fail the same way each time.
        limit_ = slots_.size() + making_;
        log::error("session pool: serving at most " + std::to_string(limit_) + " sessions at once");
        cv_.notify_all();
    }
}

void SessionPool::unreserve(Slot* slot)
{
    {
        std::lock_guard lock(mutex_);
        slot->busy = false;
        --busy_;
        free_.push_back(slot);
    }
    cv_.notify_all();
}

void SessionPool::launch(Slot* slot, SessionStart start)
{
    {
        std::lock_guard lock(mutex_);
        slot->session.assign(std::move(start));
    }
    slot->go_primary.open();
}

void SessionPool::wake_waiters()
{
    // Taking the lock orders the waiter's predicate check before this notify.
    {
        std::lock_guard lock(mutex_);
    }
    cv_.notify_all();
}

void SessionPool::finished(Slot& slot, SessionRecord&& record)
{
    reaper_.submit(std::move(record));
    {
        std::lock_guard lock(mutex_);
        slot.busy = false;
        --busy_;
        free_.push_back(&slot);
    }
    cv_.notify_all();
}

bool SessionPool::stop_sessions(Status status, const std::string& reason, std::chrono::milliseconds grace)
{
    std::unique_lock lock(mutex_);
    for (auto& s : slots_)
        if (s->busy)
            s->session.stop(status, reason);
    return cv_.wait_for(lock, grace, [this] { return busy_ == 0; });
}

} // namespace tcpproxy
