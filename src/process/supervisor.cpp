// One child program from start to reap (see supervisor.hpp).
#include "tcpproxy/process/supervisor.hpp"

#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/core/text.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/log/log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <exception>

namespace tcpproxy {

namespace {

// Lines of a handler's (or acp's) stderr logged per run; the rest are counted.
constexpr std::size_t max_handler_stderr_lines = 1000;

// Splits a program's stderr into bounded, cleaned lines, handed on at once or kept.
class Lines {
public:
    explicit Lines(const Supervision& how) : how_(how) {}

    void feed(const char* p, std::size_t n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            if (p[i] == '\n')
                end_line();
            else if (partial_.size() < how_.max_line_bytes)
                partial_ += p[i];
        }
    }

    // The last line without its newline, and how many were not kept.
    std::vector<std::string> finish()
    {
        if (!partial_.empty())
            end_line();
        if (omitted_)
            deliver("(" + std::to_string(omitted_) + " more lines not shown)");
        return std::move(kept_);
    }

private:
    void end_line()
    {
        if (count_ < how_.max_lines) {
            ++count_;
            deliver(text::clean(partial_));
        } else {
            ++omitted_;
        }
        partial_.clear();
    }
    void deliver(std::string line)
    {
        if (how_.on_line)
            how_.on_line(line);
        else
            kept_.push_back(std::move(line));
    }

    const Supervision& how_;
    std::string partial_;
    std::vector<std::string> kept_;
    std::size_t count_ = 0;
    std::size_t omitted_ = 0;
};

// Reads what is there without blocking; false at EOF or error.
bool drain(int fd, Lines& lines)
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

std::pair<Fd, Fd> stderr_pipe()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        throw sys_error("pipe2");
    Fd r(p[0]), w(p[1]);
    if (::fcntl(r.get(), F_SETFL, O_NONBLOCK) < 0)
        throw sys_error("fcntl(O_NONBLOCK)");
    return {std::move(r), std::move(w)};
}

ChildEnd supervise(Child& child, Fd& err, const Supervision& how)
{
    ChildEnd end;
    Lines lines(how);
    bool err_open = err.valid();
    bool ending = false;       // asked to go (SIGTERM or SIGKILL sent)
    std::int64_t kill_at = -1; // SIGTERM sent: when SIGKILL follows
    for (;;) {
        const auto now = Activity::now_ms();
        const bool stopping = how.activity && how.activity->stopping();
        if (!ending && (stopping || (how.deadline_ms >= 0 && now >= how.deadline_ms))) {
            ending = true;
            end.kind = stopping ? ChildEnd::Kind::stopped : ChildEnd::Kind::timed_out;
            if (how.grace_ms > 0) {
                child.signal(SIGTERM);
                kill_at = now + how.grace_ms;
            } else {
                child.signal(SIGKILL); // with its process group, when it has one
            }
        }
        if (kill_at >= 0 && now >= kill_at) {
            child.signal(SIGKILL);
            kill_at = -1;
        }
        // Once it is asked to go, its exit (pidfd, or the spawner's report) wakes us.
        std::int64_t wait_ms = -1;
        if (kill_at >= 0)
            wait_ms = kill_at - now + 1; // +1: the coarse clock may lag
        else if (!ending && how.deadline_ms >= 0)
            wait_ms = how.deadline_ms - now + 1;
        pollfd fds[2] = {{child.watch_fd(), POLLIN, 0}, {err.get(), POLLIN, 0}};
        const int n = wake::poll(fds, err_open ? 2 : 1, static_cast<int>(std::min<std::int64_t>(wait_ms, 1 << 30)));
        if (n < 0 && errno != EINTR) {
            end.kind = ChildEnd::Kind::timed_out;
            end.error = errno_text("poll");
            child.signal(SIGKILL);
            end.wait_status = child.reap();
            break;
        }
        if (n <= 0)
            continue;
        if (err_open && fds[1].revents)
            err_open = drain(err.get(), lines);
        if (fds[0].revents) {
            if (const auto st = child.try_reap()) {
                end.wait_status = *st;
                break;
            }
        }
    }
    // Its last words; a grandchild that keeps stderr open does not hold us
    // beyond what is already there.
    if (err_open)
        drain(err.get(), lines);
    end.lines = lines.finish();
    return end;
}

} // namespace

Result<Supervisor> Supervisor::start(Child::Spec spec, const std::optional<Identity>& user)
{
    try {
        auto [read_end, write_end] = stderr_pipe();
        spec.stderr_fd = write_end.get();
        Child child = user ? launch::program(spec, *user) : launch::own_program(spec);
        // write_end closes here: EOF on the pipe once the program (and what it started) let go of it.
        return Supervisor(std::move(child), std::move(read_end));
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

ChildEnd Supervisor::wait(const Supervision& how) { return supervise(child_, err_, how); }

ChildEnd watch_session_program(Supervisor& program, const Activity& activity, std::int64_t deadline_ms,
                               std::int64_t grace_ms, const std::string& label, std::uint64_t session_id)
{
    // The session id goes into the text too: stderr and syslog show no attributes.
    const std::string prefix = "session=" + std::to_string(session_id) + " " + label + ": ";
    Supervision how;
    how.activity = &activity;
    how.deadline_ms = deadline_ms;
    how.grace_ms = grace_ms;
    // What a handler says is its output, not the proxy's problem: info, not
    // warning. Bounded: a program that writes without end costs a count.
    how.max_lines = max_handler_stderr_lines;
    how.on_line = [&](const std::string& line) { log::info(prefix + line, session_id); };
    return program.wait(how);
}

HandlerRun run_exit_handler(const std::vector<std::string>& argv, int stdin_fd, const std::vector<std::string>& env,
                            const std::optional<Identity>& identity, const HandlerLimits& limits,
                            const std::optional<HandlerRef>& handler)
{
    HandlerRun run;
    if (argv.empty() || argv.front().empty()) {
        run.error = "no exit handler program";
        return run;
    }
    Child::Spec spec{argv, env, stdin_fd, -1, -1}; // stdout: /dev/null
    spec.process_group = true;
    spec.handler = handler;
    auto program = Supervisor::start(std::move(spec), identity);
    if (!program) {
        run.error = program.error().message;
        return run;
    }
    run.started = true;
    Supervision how;
    how.deadline_ms = Activity::now_ms() + limits.time.count();
    how.max_lines = limits.max_lines;
    how.max_line_bytes = limits.max_line_bytes;
    auto end = program->wait(how);
    run.timed_out = end.kind == ChildEnd::Kind::timed_out && end.error.empty();
    if (WIFEXITED(end.wait_status))
        run.exit_code = WEXITSTATUS(end.wait_status);
    else if (WIFSIGNALED(end.wait_status))
        run.signal = WTERMSIG(end.wait_status);
    run.stderr_lines = std::move(end.lines);
    run.error = std::move(end.error);
    return run;
}

} // namespace tcpproxy
