#include "tcpproxy/report/reaper.hpp"

#include "tcpproxy/log/log.hpp"

#include <chrono>
#include <exception>
#include <thread>

namespace tcpproxy {

namespace {

constexpr std::chrono::milliseconds batch_nap{2};

} // namespace

Reaper::Reaper(Mode mode) : mode_(mode)
{
    if (mode_ == Mode::threaded) {
        boost::thread::attributes attrs;
        attrs.set_stack_size(256 * 1024); // exit handlers and formatting, not per session: a little room
        thread_ = boost::thread(attrs, [this] { run(); });
    }
}

Reaper::~Reaper() { stop(); }

void Reaper::add(std::shared_ptr<SessionObserver> observer) { observers_.push_back(std::move(observer)); }

std::uint64_t Reaper::next_session_id() { return ids_.fetch_add(1, std::memory_order_relaxed) + 1; }

void Reaper::started(const SessionRecord& r)
{
    for (auto& o : observers_) {
        try {
            o->starting(r);
        } catch (const std::exception& ex) {
            log::error(std::string("session bookkeeping: ") + ex.what(), r.id);
        }
    }
    post(Event::started, r);
}

void Reaper::connected(const SessionRecord& r) { post(Event::connected, r); }

void Reaper::submit(SessionRecord r) { post(Event::ended, std::move(r)); }

void Reaper::post(Event e, SessionRecord r)
{
    if (mode_ == Mode::inline_) {
        handle(e, r);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        queue_.emplace_back(e, std::move(r));
    }
    wake_.open();
}

void Reaper::handle(Event e, const SessionRecord& r)
{
    for (auto& o : observers_) {
        try {
            switch (e) {
            case Event::started: o->started(r); break;
            case Event::connected: o->connected(r); break;
            case Event::ended: o->ended(r); break;
            }
        } catch (const std::exception& ex) {
            // One observer failing (a full disk, say) must not keep the others from the session.
            log::error(std::string("session bookkeeping: ") + ex.what(), r.id);
        }
    }
}

void Reaper::run()
{
    std::deque<std::pair<Event, SessionRecord>> batch;
    for (;;) {
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            batch.swap(queue_);
            stopping = stopping_;
        }
        if (batch.empty()) {
            if (stopping)
                return; // everything handled
            wake_.pass();
            continue;
        }
        for (auto& [e, r] : batch)
            handle(e, r);
        batch.clear();
        // Gather the next batch before looking again: while we do not sleep
        // in the gate, post() queues without a system call, so under load
        // the thread wakes once per nap instead of three times per session
        // (each wake-up of another thread costs more CPU than the lines).
        // Observers see events at most this much later.
        if (!stopping)
            std::this_thread::sleep_for(batch_nap);
    }
}

void Reaper::stop()
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        stopping_ = true;
    }
    wake_.open();
    if (thread_.joinable())
        thread_.join();
    for (auto& o : observers_)
        o->shutdown();
}

} // namespace tcpproxy
