// Session logfiles and the exit handler that may process them.
#include "tcpproxy/report/session_log.hpp"
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/report/status_file.hpp"
#include "tcpproxy/core/fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

namespace tcpproxy {
namespace {

constexpr mode_t session_log_mode = 0600;

std::string errno_text(const std::string& call, int err)
{
    return call + ": " + std::strerror(err);
}

// The handler's stderr: a pipe whose read end (ours) does not block.
std::optional<std::string> make_stderr_pipe(Fd& read_end, Fd& write_end)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return errno_text("pipe2", errno);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
        return errno_text("fcntl(O_NONBLOCK)", errno);
    return std::nullopt;
}

// Splits the handler's stderr into bounded, printable lines.
class LineCollector {
public:
    explicit LineCollector(const HandlerLimits& l) : limits_(l) {}
    void feed(const char* p, std::size_t n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            if (p[i] == '\n') {
                end_line();
                continue;
            }
            if (partial_.size() < limits_.max_line_bytes) {
                const auto c = static_cast<unsigned char>(p[i]);
                partial_ += (c < 0x20 && c != '\t') || c == 0x7f ? '?' : static_cast<char>(c);
            }
        }
    }
    std::vector<std::string> finish()
    {
        if (!partial_.empty())
            end_line();
        if (omitted_)
            lines_.push_back("(" + std::to_string(omitted_) + " more lines not shown)");
        return std::move(lines_);
    }
private:
    void end_line()
    {
        if (lines_.size() < limits_.max_lines)
            lines_.push_back(std::move(partial_));
        else
            ++omitted_;
        partial_.clear();
    }
    const HandlerLimits& limits_;
    std::vector<std::string> lines_;
    std::string partial_;
    std::size_t omitted_ = 0;
};

// Reads what is there without blocking; false at EOF or error.
bool drain(int fd, LineCollector& lines)
{
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            lines.feed(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && errno == EAGAIN;
    }
}

void record_wait_status(HandlerRun& run, int st)
{
    if (WIFEXITED(st))
        run.exit_code = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        run.signal = WTERMSIG(st);
}

// Waits for the child and collects its stderr until it exits or the time is up.
void supervise(HandlerRun& run, Child& child, int stderr_fd, const HandlerLimits& limits)
{
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + limits.time;
    LineCollector lines(limits);
    bool pipe_open = true;
    bool poll_failed = false;
    std::optional<int> status;
    while (!status) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0)
            break;
        // The watch descriptor becomes readable when the child has exited,
        // whether it is ours (pidfd) or the spawner's (its control socket).
        pollfd fds[2] = {{child.watch_fd(), POLLIN, 0}, {pipe_open ? stderr_fd : -1, POLLIN, 0}};
        const int r = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (r < 0 && errno != EINTR) {
            run.error = errno_text("poll", errno);
            poll_failed = true;
            break;
        }
        if (r <= 0)
            continue;
        if (pipe_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            pipe_open = drain(stderr_fd, lines);
        if (fds[0].revents)
            status = child.try_reap();
    }
    if (!status) {
        run.timed_out = !poll_failed;
        child.signal(SIGKILL); // the whole process group
        status = child.reap();
    }
    // What the handler wrote just before it ended; a grandchild that keeps
    // stderr open does not hold us beyond what is already there.
    if (pipe_open)
        drain(stderr_fd, lines);
    record_wait_status(run, *status);
    run.stderr_lines = lines.finish();
}

} // namespace

HandlerRun run_exit_handler(const std::vector<std::string>& argv, int stdin_fd, const std::vector<std::string>& env,
                            const std::optional<Identity>& identity, const HandlerLimits& limits)
{
    HandlerRun run;
    if (argv.empty() || argv.front().empty()) {
        run.error = "no exit handler program";
        return run;
    }
    Fd err_read, err_write;
    if (auto e = make_stderr_pipe(err_read, err_write)) {
        run.error = *e;
        return run;
    }
    Child::Spec spec{argv, env, stdin_fd, -1, err_write.get()}; // stdout: /dev/null
    spec.process_group = true;
    Child child;
    try {
        child = identity ? launch::program(spec, *identity) : launch::own_program(spec);
    } catch (const std::exception& e) {
        run.error = e.what();
        return run;
    }
    err_write.reset(); // EOF on the pipe once the handler (and what it started) let go of it
    run.started = true;
    supervise(run, child, err_read.get(), limits);
    return run;
}

SessionLog::SessionLog(const std::string& dir, const std::string& logname, pid_t pid, std::uint64_t session_id)
    : path_(dir + '/' + status_file_name(logname, pid, session_id) + ".log")
{
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                 session_log_mode);
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "open(" + path_ + ")");
    if (::fchmod(fd_, session_log_mode) != 0) {
        const int err = errno;
        ::close(fd_);
        ::unlink(path_.c_str());
        throw std::system_error(err, std::generic_category(), "fchmod(" + path_ + ")");
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
        if (fd_ < 0)
            return;
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                if (append_error_.empty())
                    append_error_ = errno_text("write(" + path_ + ")", errno);
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
            append_error_ = errno_text("close(" + path_ + ")", errno);
        } catch (...) {
            // No memory for the text: the close failure goes unreported.
        }
    }
}

SessionLogOutcome SessionLog::finish(Status status, const SessionHandling& handling,
                                     const std::vector<std::string>& env, const std::optional<Identity>& identity,
                                     const HandlerLimits& limits)
{
    SessionLogOutcome out;
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
        if (fd_ >= 0 && ::close(std::exchange(fd_, -1)) != 0)
            out.errors.push_back(errno_text("close(" + path_ + ")", errno));
    }

    const bool selected = handling.active() && (handling.exit_codes & status_bit(status)) != 0;
    if (selected && handling.mode == SessionMode::keep) {
        out.action = SessionLogOutcome::Action::kept;
        return out;
    }
    if (selected && handling.mode == SessionMode::process) {
        Fd input(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (input.get() < 0) {
            out.handler = HandlerRun{};
            out.handler->error = errno_text("open(" + path_ + ")", errno);
        } else {
            out.handler = run_exit_handler(handling.exit_handler, input.get(), env, identity, limits);
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
        out.errors.push_back(errno_text("unlink(" + path_ + ")", errno));
    return out;
}

} // namespace tcpproxy
