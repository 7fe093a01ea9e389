#include "child_watch.hpp"

#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/log/log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

namespace tcpproxy {

std::pair<Fd, Fd> stderr_pipe()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        throw sys_error("pipe2");
    Fd r(p[0]), w(p[1]);
    const int flags = ::fcntl(r.get(), F_GETFL);
    ::fcntl(r.get(), F_SETFL, flags | O_NONBLOCK);
    return {std::move(r), std::move(w)};
}

ChildEnd watch_child(Child& child, Fd& err, const Activity& activity, std::int64_t deadline_ms,
                     std::int64_t grace_ms, const std::string& label, std::uint64_t session_id)
{
    // The session id goes into the text too: stderr and syslog show no attributes.
    const std::string prefix = "session=" + std::to_string(session_id) + " " + label + ": ";
    std::string partial;
    auto read_err = [&](bool flush) {
        char buf[1024];
        for (;;) {
            const ssize_t n = ::read(err.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            partial.append(buf, static_cast<std::size_t>(n));
            for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
                log::warning(prefix + partial.substr(0, nl), session_id);
                partial.erase(0, nl + 1);
            }
        }
        if (flush && !partial.empty()) {
            log::warning(prefix + partial, session_id);
            partial.clear();
        }
    };

    ChildEnd end;
    std::int64_t kill_at = -1; // set once we have asked it to go
    bool err_open = err.valid();
    for (;;) {
        const auto now = Activity::now_ms();
        if (kill_at < 0 && (activity.stopping() || (deadline_ms >= 0 && now >= deadline_ms))) {
            end.kind = activity.stopping() ? ChildEnd::Kind::stopped : ChildEnd::Kind::timed_out;
            child.signal(SIGTERM);
            kill_at = now + grace_ms;
        }
        std::int64_t wait_ms = -1;
        if (kill_at >= 0)
            wait_ms = std::max<std::int64_t>(0, kill_at - now);
        else if (deadline_ms >= 0)
            wait_ms = deadline_ms - now;
        if (kill_at >= 0 && wait_ms == 0) {
            child.signal(SIGKILL);
            wait_ms = -1; // now it goes: its pidfd wakes us
        }
        pollfd fds[2] = {{child.watch_fd(), POLLIN, 0}, {err.get(), POLLIN, 0}};
        const int n = wake::poll(fds, err_open ? 2 : 1, static_cast<int>(std::min<std::int64_t>(wait_ms, 1 << 30)));
        if (n <= 0)
            continue;
        if (err_open && fds[1].revents) {
            read_err(false);
            if (!(fds[1].revents & POLLIN))
                err_open = false; // hung up, nothing left
        }
        if (fds[0].revents) {
            if (auto st = child.try_reap()) {
                end.wait_status = *st;
                break;
            }
        }
    }
    if (err_open)
        read_err(true); // its last words (a grandchild keeping the pipe open is not waited for)
    else if (!partial.empty())
        log::warning(prefix + partial, session_id);
    return end;
}

} // namespace tcpproxy
