// Session logfiles and the exit handler that may process them.
#include "tcpproxy/session_log.hpp"
#include "tcpproxy/status_file.hpp"
#include "tcpproxy/fd.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace tcpproxy {
namespace {

constexpr mode_t session_log_mode = 0600;

std::string errno_text(const std::string& call, int err)
{
    return call + ": " + std::strerror(err);
}

struct Pipe {
    Fd read, write;
};

// pipe2 with O_CLOEXEC on both ends; nonblocking read end on request.
std::optional<std::string> make_pipe(Pipe& p, bool nonblocking_read)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return errno_text("pipe2", errno);
    p.read.reset(fds[0]);
    p.write.reset(fds[1]);
    if (nonblocking_read && ::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
        return errno_text("fcntl(O_NONBLOCK)", errno);
    return std::nullopt;
}

// The child between fork and exec: what failed, reported through a CLOEXEC pipe.
struct ChildFailure {
    int stage;
    int err;
};
enum Stage { stage_setgroups, stage_setgid, stage_setuid, stage_dup2, stage_execve };

std::string stage_call(int stage, const std::string& program, const std::optional<Identity>& id)
{
    switch (stage) {
    case stage_setgroups: return "setgroups";
    case stage_setgid: return "setgid(" + std::to_string(id && id->gid ? *id->gid : 0) + ")";
    case stage_setuid: return "setuid(" + std::to_string(id && id->uid ? *id->uid : 0) + ")";
    case stage_dup2: return "dup2";
    default: return "execve(" + program + ")";
    }
}

// A started child: killed (with its process group) and reaped if still there.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}
    ~Child()
    {
        if (pid_ > 0) {
            kill_group();
            wait();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return pid_; }
    void kill_group() const
    {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
    }
    // Blocking reap; returns the wait status.
    int wait()
    {
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return st;
    }
    std::optional<int> try_wait()
    {
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_ || (r < 0 && errno == ECHILD)) {
            pid_ = -1;
            return st;
        }
        return std::nullopt;
    }
private:
    pid_t pid_;
};

[[noreturn]] void child_fail(int report_fd, int stage)
{
    const ChildFailure f{stage, errno};
    [[maybe_unused]] auto n = ::write(report_fd, &f, sizeof f);
    ::_exit(127);
}

// Only async-signal-safe calls from here to execve: the parent has threads.
[[noreturn]] void exec_child(char* const argv[], char* const envp[], int stdin_fd, int null_fd, int stderr_fd,
                             int report_fd, const std::optional<std::pair<uid_t, gid_t>>& ids)
{
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(stdin_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0)
        child_fail(report_fd, stage_dup2);
    if (ids) {
        const gid_t gid = ids->second;
        if (::setgroups(1, &gid) != 0)
            child_fail(report_fd, stage_setgroups);
        if (::setgid(gid) != 0)
            child_fail(report_fd, stage_setgid);
        if (::setuid(ids->first) != 0)
            child_fail(report_fd, stage_setuid);
    }
    // Descriptors someone opened without O_CLOEXEC must not reach the handler.
    ::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    ::execve(argv[0], argv, envp);
    child_fail(report_fd, stage_execve);
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
    // Via syscall(): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0)));
    bool pipe_open = true;
    bool poll_failed = false;
    std::optional<int> status;
    while (!status && !poll_failed) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0)
            break;
        pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {pipe_open ? stderr_fd : -1, POLLIN, 0}};
        // Without a pidfd (kernel < 5.3) the child is checked every 100 ms.
        const int wait_ms = pidfd.get() >= 0 ? static_cast<int>(std::min<long long>(left, 1 << 30))
                                             : static_cast<int>(std::min<long long>(left, 100));
        const int r = ::poll(fds, 2, wait_ms);
        if (r < 0 && errno != EINTR) {
            run.error = errno_text("poll", errno);
            poll_failed = true;
            break;
        }
        if (pipe_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            pipe_open = drain(stderr_fd, lines);
        if (pidfd.get() < 0 || (fds[0].revents & POLLIN))
            status = child.try_wait();
    }
    if (!status) {
        run.timed_out = !poll_failed;
        child.kill_group();
        status = child.wait();
    }
    // What the handler wrote just before it ended; a grandchild that keeps
    // stderr open does not hold us beyond what is already there.
    if (pipe_open)
        drain(stderr_fd, lines);
    record_wait_status(run, *status);
    run.stderr_lines = lines.finish();
}

std::vector<char*> c_strings(const std::vector<std::string>& v)
{
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v)
        out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
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
    std::optional<std::pair<uid_t, gid_t>> ids;
    if (identity && (identity->uid || identity->gid) && ::geteuid() == 0)
        ids = std::pair{identity->uid.value_or(::getuid()), identity->gid.value_or(::getgid())};

    const auto args = c_strings(argv);
    const auto envp = c_strings(env);
    Fd null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (null_fd.get() < 0) {
        run.error = errno_text("open(/dev/null)", errno);
        return run;
    }
    Pipe err_pipe, report_pipe;
    if (auto e = make_pipe(err_pipe, true)) {
        run.error = *e;
        return run;
    }
    if (auto e = make_pipe(report_pipe, false)) {
        run.error = *e;
        return run;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        run.error = errno_text("fork", errno);
        return run;
    }
    if (pid == 0)
        exec_child(args.data(), envp.data(), stdin_fd, null_fd.get(), err_pipe.write.get(), report_pipe.write.get(),
                   ids);
    Child child(pid);
    err_pipe.write.reset();
    report_pipe.write.reset();

    ChildFailure failure {};
    ssize_t n;
    while ((n = ::read(report_pipe.read.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof failure)) {
        run.error = errno_text(stage_call(failure.stage, argv.front(), identity), failure.err);
        child.wait();
        return run;
    }
    run.started = true;
    supervise(run, child, err_pipe.read.get(), limits);
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
