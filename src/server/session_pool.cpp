#include "session_pool.hpp"

#include "tcpproxy/log/log.hpp"

#include <algorithm>

namespace tcpproxy {

SessionPool::SessionPool(std::size_t sessions, std::size_t stack_bytes, Reaper& reaper, long main_pid)
    : reaper_(reaper), stack_bytes_(stack_bytes), main_pid_(main_pid)
{
    resize(sessions);
}

std::unique_ptr<SessionPool::Slot> SessionPool::make_slot()
{
    boost::thread::attributes attrs;
    attrs.set_stack_size(stack_bytes_);
    auto slot = std::make_unique<Slot>(*this, reaper_, main_pid_);
    Slot* s = slot.get();
    try {
        s->primary = boost::thread(attrs, [this, s] {
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
    // Only this (the main) thread adds slots, so the count read here stays true.
    std::size_t have = 0;
    {
        std::lock_guard lock(mutex_);
        have = slots_.size();
    }
    // Threads are created without the lock: running sessions keep finishing meanwhile.
    std::vector<std::unique_ptr<Slot>> added;
    while (have + added.size() < sessions) {
        auto slot = make_slot();
        if (!slot)
            break;
        added.push_back(std::move(slot));
    }
    std::size_t limit = 0;
    {
        std::lock_guard lock(mutex_);
        // Free slots are taken from the back: the new (cold) ones go to the
        // front, in an order that hands out the first created first.
        std::vector<Slot*> fresh;
        for (auto it = added.rbegin(); it != added.rend(); ++it)
            fresh.push_back(it->get());
        free_.insert(free_.begin(), fresh.begin(), fresh.end());
        for (auto& slot : added)
            slots_.push_back(std::move(slot));
        limit_ = std::min(sessions, slots_.size());
        if (limit_ < sessions)
            log::error("session pool: serving at most " + std::to_string(limit_) + " sessions at once");
        limit = limit_;
    }
    cv_.notify_all(); // acceptors waiting for a slot may go on under a higher limit
    return limit;
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

SessionPool::Slot* SessionPool::reserve(const std::atomic<bool>& cancelled)
{
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return (!free_.empty() && busy_ < limit_) || cancelled.load(); });
    if (cancelled.load())
        return nullptr;
    Slot* s = free_.back();
    free_.pop_back();
    s->busy = true;
    ++busy_;
    return s;
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
    { std::lock_guard lock(mutex_); }
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
