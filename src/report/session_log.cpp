// Session logfiles and how they end: kept, processed by the exit handler (on
// the exit handler pool's threads), or removed.
#include "tcpproxy/report/session_log.hpp"
#include "tcpproxy/report/status_file.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/log/log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <tuple>
#include <utility>

namespace tcpproxy {
namespace {

constexpr mode_t session_log_mode = 0600;

void log_handler_run(const ExitJob& job, const HandlerRun& run)
{
    const std::string who =
        "session=" + std::to_string(job.session) + " exit handler " + job.handling.exit_handler.front();
    if (!run.started) {
        log::error(who + " could not run: " + run.error, job.session);
        return;
    }
    for (const auto& line : run.stderr_lines) // its output, not the proxy's problem
        log::info(who + ": " + line, job.session);
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

// The kept logfiles of each session directory, oldest first, so that
// session-keep-limit costs no directory scan per session: one scan when this
// process first keeps a file there (for what earlier runs kept), then the
// files it keeps itself.
class KeptLogs {
public:
    static KeptLogs& instance()
    {
        static KeptLogs kept;
        return kept;
    }

    // `path` was just kept: removes the oldest kept files beyond `limit`
    // (never `path` itself), each one logged.
    void add(const std::string& dir, const std::string& path, const KeepLimit& limit, std::uint64_t session)
    {
        std::lock_guard lock(mutex_);
        auto [it, fresh] = dirs_.try_emplace(dir);
        Dir& d = it->second;
        if (fresh)
            scan(dir, d);
        struct stat st {};
        d.push({path, ::lstat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0});
        while (d.files.size() > 1 &&
               ((limit.files && d.files.size() > limit.files) || (limit.bytes && d.bytes > limit.bytes))) {
            const File oldest = d.pop();
            if (::unlink(oldest.path.c_str()) == 0)
                log::notice("session logfile removed: " + oldest.path + " (session-keep-limit " +
                                std::to_string(limit.files) + " " + std::to_string(limit.bytes) + ")",
                            session);
            else if (errno != ENOENT) // ENOENT: someone else removed it already
                log::error("session logfile: " + errno_text("unlink(" + oldest.path + ")"), session);
        }
    }

private:
    struct File {
        std::string path;
        std::uint64_t bytes = 0;
    };
    struct Dir {
        std::deque<File> files;
        std::uint64_t bytes = 0;
        void push(File f)
        {
            bytes += f.bytes;
            files.push_back(std::move(f));
        }
        File pop()
        {
            File f = std::move(files.front());
            files.pop_front();
            bytes -= std::min(bytes, f.bytes);
            return f;
        }
    };

    // What earlier runs kept: our own user's LOGNAME.PID.SESSIONID.log
    // regular files whose process is gone (a live one may still be writing
    // its file), oldest first.
    static void scan(const std::string& dir, Dir& d)
    {
        DIR* dp = ::opendir(dir.c_str());
        if (!dp)
            return;
        std::vector<std::tuple<std::int64_t, long, std::string, std::uint64_t>> found;
        while (const dirent* e = ::readdir(dp)) {
            const std::string_view name = e->d_name;
            if (!name.ends_with(".log"))
                continue;
            const auto parsed = parse_status_file_name(name.substr(0, name.size() - 4));
            struct stat st {};
            if (!parsed || ::fstatat(::dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
                st.st_uid != ::geteuid())
                continue;
            if (parsed->pid == ::getpid() || ::kill(parsed->pid, 0) == 0 || errno != ESRCH)
                continue;
            found.emplace_back(st.st_mtim.tv_sec, st.st_mtim.tv_nsec, dir + '/' + e->d_name,
                               static_cast<std::uint64_t>(st.st_size));
        }
        ::closedir(dp);
        std::sort(found.begin(), found.end());
        for (auto& [sec, nsec, path, bytes] : found)
            d.push({std::move(path), bytes});
    }

    std::mutex mutex_;
    std::map<std::string, Dir> dirs_;
};

} // namespace

SessionLog::SessionLog(const std::string& dir, const std::string& logname, pid_t pid, std::uint64_t session_id)
    : path_(dir + '/' + status_file_name(logname, pid, session_id) + ".log")
{
    // Read-write: this descriptor, rewound, is the exit handler's stdin, so
    // whatever is put at the path later (a FIFO that would block an open())
    // is never opened.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                 session_log_mode);
    if (fd_ < 0)
        throw sys_error("open(" + path_ + ")");
    if (::fchmod(fd_, session_log_mode) != 0) {
        const int err = errno;
        ::close(fd_);
        ::unlink(path_.c_str());
        throw sys_error("fchmod(" + path_ + ")", err);
    }
}

SessionLog::~SessionLog()
{
    std::lock_guard lock(mutex_);
    if (fd_ >= 0)
        ::close(fd_);
    if (!finished_)
        ::unlink(path_.c_str());
}

void SessionLog::append(std::string_view line) noexcept
{
    try {
        std::string text(line);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.pop_back();
        for (char& c : text)
            if (c == '\n' || c == '\r')
                c = ' ';
        text += '\n';
        std::lock_guard lock(mutex_);
        if (fd_ < 0 || sealed_)
            return;
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                if (append_error_.empty())
                    append_error_ = errno_text("write(" + path_ + ")");
                return;
            }
            done += static_cast<std::size_t>(n);
        }
    } catch (...) {
        // Out of memory for one log line: the session goes on without it.
    }
}

void SessionLog::close() noexcept
{
    std::lock_guard lock(mutex_);
    if (fd_ >= 0 && ::close(std::exchange(fd_, -1)) != 0 && append_error_.empty()) {
        try {
            append_error_ = errno_text("close(" + path_ + ")");
        } catch (...) {
            // No memory for the text: the close failure goes unreported.
        }
    }
}

void SessionLog::seal() noexcept
{
    std::lock_guard lock(mutex_);
    sealed_ = true;
}

SessionLogOutcome SessionLog::finish(Status status, const SessionHandling& handling,
                                     const std::vector<std::string>& env, const std::optional<Identity>& identity,
                                     const HandlerLimits& limits, const std::optional<HandlerRef>& handler)
{
    SessionLogOutcome out;
    Fd input; // the descriptor made with O_EXCL: the handler's stdin, never reopened by path
    {
        // Late append() calls return at once from here on instead of
        // waiting for the exit handler.
        std::lock_guard lock(mutex_);
        if (finished_) {
            out.action = SessionLogOutcome::Action::kept;
            out.errors.push_back("session log " + path_ + " finished twice");
            return out;
        }
        finished_ = true;
        if (!append_error_.empty())
            out.errors.push_back(append_error_);
        input.reset(std::exchange(fd_, -1));
    }

    const bool selected = handling.active() && (handling.exit_codes & status_bit(status)) != 0;
    const bool process = selected && handling.mode == SessionMode::process;
    if (!process && input && ::close(input.release()) != 0)
        out.errors.push_back(errno_text("close(" + path_ + ")"));
    if (selected && handling.mode == SessionMode::keep) {
        out.action = SessionLogOutcome::Action::kept;
        return out;
    }
    if (process) {
        if (!input) {
            out.handler = HandlerRun{};
            out.handler->error = "no descriptor for " + path_ + " (closed before its end)";
        } else if (::lseek(input.get(), 0, SEEK_SET) < 0) {
            out.handler = HandlerRun{};
            out.handler->error = errno_text("lseek(" + path_ + ")");
        } else {
            out.handler = run_exit_handler(handling.exit_handler, input.get(), env, identity, limits, handler);
        }
        if (!out.handler->started) {
            out.action = SessionLogOutcome::Action::kept;
            return out;
        }
        out.action = SessionLogOutcome::Action::processed;
    } else {
        out.action = SessionLogOutcome::Action::removed;
    }
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
        out.errors.push_back(errno_text("unlink(" + path_ + ")"));
    return out;
}

// The exit handler pool.

void finish_session_log(ExitJob& job, const HandlerLimits& limits)
{
    const auto out = job.log->finish(job.status, job.handling, job.env, job.identity, limits, job.handler);
    if (out.handler)
        log_handler_run(job, *out.handler);
    if (out.action == SessionLogOutcome::Action::kept) {
        log::info("session logfile kept: " + job.log->path(), job.session);
        KeptLogs::instance().add(job.handling.dir, job.log->path(), job.handling.keep_limit, job.session);
    }
    for (const auto& e : out.errors)
        log::error("session logfile: " + e, job.session);
}

ExitHandlerPool::ExitHandlerPool(std::size_t threads, std::size_t max_queued, HandlerLimits limits)
    : max_threads_(threads), max_queued_(max_queued), limits_(limits)
{
}

ExitHandlerPool::~ExitHandlerPool() { drain(); }

void ExitHandlerPool::submit(ExitJob job)
{
    if (max_threads_ == 0) {
        finish_session_log(job, limits_);
        return;
    }
    // A queued job keeps its logfile's descriptor only when the handler will
    // read it (at most max_queued of them); the others need none.
    if (job.handling.mode == SessionMode::process && (job.handling.exit_codes & status_bit(job.status)) != 0)
        job.log->seal();
    else
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
        HandlerLimits limits = limits_;
        bool too_late = false;
        if (draining_) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
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
