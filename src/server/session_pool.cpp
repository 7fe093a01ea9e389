#include "server/session_pool.hpp"

#include "tcpproxy/log.hpp"

namespace tcpproxy {

SessionPool::SessionPool(std::size_t sessions, std::size_t stack_bytes, Reaper& reaper, long main_pid)
    : reaper_(reaper)
{
    boost::thread::attributes attrs;
    attrs.set_stack_size(stack_bytes);
    slots_.reserve(sessions);
    for (std::size_t i = 0; i < sessions; ++i) {
        auto slot = std::make_unique<Slot>(*this, reaper, main_pid);
        Slot* s = slot.get();
        try {
            s->primary = boost::thread(attrs, [this, s] {
                for (;;) {
                    s->go_primary.acquire();
                    if (quit_.load(std::memory_order_acquire))
                        return;
                    s->session.run_primary();
                }
            });
            s->secondary = boost::thread(attrs, [this, s] {
                for (;;) {
                    s->go_secondary.acquire();
                    if (quit_.load(std::memory_order_acquire))
                        return;
                    s->session.run_secondary();
                }
            });
        } catch (const std::exception& e) {
            if (s->primary.joinable()) {
                quit_.store(true);
                s->go_primary.release();
                s->primary.join();
                quit_.store(false);
            }
            log::error("session pool: could not create more threads (" + std::string(e.what()) + "); serving at most " +
                       std::to_string(slots_.size()) + " sessions at once");
            break;
        }
        slots_.push_back(std::move(slot));
    }
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it)
        free_.push_back(it->get());
}

SessionPool::~SessionPool()
{
    quit_.store(true, std::memory_order_release);
    for (auto& s : slots_) {
        s->go_primary.release();
        s->go_secondary.release();
    }
    for (auto& s : slots_) {
        s->primary.join();
        s->secondary.join();
    }
}

std::size_t SessionPool::busy() const
{
    std::lock_guard lock(mutex_);
    return busy_;
}

SessionPool::Slot* SessionPool::reserve(const std::atomic<bool>& cancelled)
{
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !free_.empty() || cancelled.load(); });
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
    slot->go_primary.release();
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
