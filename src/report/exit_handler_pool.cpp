#include "exit_handler_pool.hpp"

#include "tcpproxy/log/log.hpp"

#include <algorithm>
#include <exception>

namespace tcpproxy {

namespace {

void log_handler_run(const ExitJob& job, const HandlerRun& run)
{
    const std::string who = "exit handler " + job.handling.exit_handler.front();
    if (!run.started) {
        log::error(who + " could not run: " + run.error, job.session);
        return;
    }
    for (const auto& line : run.stderr_lines)
        log::warning(who + ": " + line, job.session);
    if (run.timed_out)
        log::error(who + ": killed after the time limit", job.session);
    else if (run.signal)
        log::error(who + ": killed by signal " + std::to_string(*run.signal), job.session);
    else if (run.exit_code && *run.exit_code != 0)
        log::warning(who + ": exit code " + std::to_string(*run.exit_code), job.session);
    else if (run.exit_code)
        log::info(who + ": exit code 0", job.session);
    if (!run.error.empty())
        log::error(who + ": " + run.error, job.session);
}

} // namespace

void finish_session_log(ExitJob& job, const HandlerLimits& limits)
{
    const auto out = job.log->finish(job.status, job.handling, job.env, job.identity, limits);
    if (out.handler)
        log_handler_run(job, *out.handler);
    if (out.action == SessionLogOutcome::Action::kept)
        log::info("session logfile kept: " + job.log->path(), job.session);
    for (const auto& e : out.errors)
        log::error("session logfile: " + e, job.session);
}

ExitHandlerPool::ExitHandlerPool(std::size_t threads, std::size_t max_queued)
    : max_threads_(threads), max_queued_(max_queued)
{
}

ExitHandlerPool::~ExitHandlerPool() { drain(); }

void ExitHandlerPool::submit(ExitJob job)
{
    if (max_threads_ == 0) {
        finish_session_log(job);
        return;
    }
    job.log->close();
    std::unique_lock lock(mutex_);
    if (draining_ || queue_.size() >= max_queued_) {
        lock.unlock();
        log::warning("exit handler: " + std::to_string(max_queued_) +
                         " sessions already wait for it; not run for this session",
                     job.session);
        job.handling.mode = SessionMode::keep;
        finish_session_log(job);
        return;
    }
    queue_.push_back(std::move(job));
    if (idle_ == 0 && threads_.size() < max_threads_) {
        boost::thread::attributes attrs;
        attrs.set_stack_size(256 * 1024); // fork, poll and log lines: no deep calls
        try {
            threads_.emplace_back(attrs, [this] { run(); });
        } catch (const std::exception& e) {
            // The threads already there (or, with none, drain()) will get to it.
            log::error(std::string("exit handler: no thread: ") + e.what());
        }
    }
    lock.unlock();
    cv_.notify_one();
}

void ExitHandlerPool::run()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        ++idle_;
        cv_.wait(lock, [this] { return draining_ || !queue_.empty(); });
        --idle_;
        if (queue_.empty())
            return; // draining, and nothing left
        ExitJob job = std::move(queue_.front());
        queue_.pop_front();
        HandlerLimits limits;
        bool too_late = false;
        if (draining_) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline_ - std::chrono::steady_clock::now());
            limits.time = std::min(limits.time, left);
            too_late = left.count() <= 0;
        }
        lock.unlock();
        if (too_late) {
            log::warning("exit handler: not run, the proxy is shutting down", job.session);
            job.handling.mode = SessionMode::keep;
        }
        try {
            finish_session_log(job, limits);
        } catch (const std::exception& e) {
            log::error(std::string("session logfile: ") + e.what(), job.session);
        }
        lock.lock();
    }
}

void ExitHandlerPool::drain()
{
    {
        std::lock_guard lock(mutex_);
        if (draining_)
            return;
        draining_ = true;
        deadline_ = std::chrono::steady_clock::now() + shutdown_budget;
    }
    cv_.notify_all();
    // No thread is added once draining_ is set: the vector is ours now.
    for (auto& t : threads_)
        t.join();
    // Queued with no thread to take them (thread creation failed): keep the evidence.
    std::deque<ExitJob> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(queue_);
    }
    for (auto& job : left) {
        job.handling.mode = SessionMode::keep;
        finish_session_log(job);
    }
}

} // namespace tcpproxy
