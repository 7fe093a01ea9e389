#include "tcpproxy/process/child.hpp"

#include "spawn_protocol.hpp"
#include "tcpproxy/core/wake.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

// glibc 2.36's <sys/pidfd.h> lacks the extern "C" guards.
extern "C" {
#include <sys/pidfd.h>
}

namespace tcpproxy {

namespace {

// posix_spawn objects with destructors, so that every exit path frees them.
struct SpawnAttr {
    posix_spawnattr_t attr;
    SpawnAttr() { posix_spawnattr_init(&attr); }
    ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};
struct FileActions {
    posix_spawn_file_actions_t fa;
    FileActions() { posix_spawn_file_actions_init(&fa); }
    ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

} // namespace

Child& Child::operator=(Child&& o) noexcept
{
    if (this != &o) {
        kill_and_reap();
        pid_ = o.pid_;
        watch_ = std::move(o.watch_);
        remote_ = o.remote_;
        group_ = o.group_;
        o.pid_ = -1;
    }
    return *this;
}

Child::~Child() { kill_and_reap(); }

Child Child::spawn(const Spec& spec)
{
    SpawnAttr attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    // Our own dispositions and mask are not the child's business: SIGPIPE is
    // ignored here and would otherwise stay ignored across exec.
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, wake::signal_number()})
        sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr.attr, &none);
    posix_spawnattr_setsigdefault(&attr.attr, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (spec.process_group) {
        posix_spawnattr_setpgroup(&attr.attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr.attr, flags);

    FileActions fa;
    const int targets[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
    for (int i = 0; i < 3; ++i) {
        if (targets[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa.fa, targets[i], i);
        else
            posix_spawn_file_actions_addopen(&fa.fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    // A descriptor some thread opened without O_CLOEXEC (or is opening right
    // now) must not reach the program.
    posix_spawn_file_actions_addclosefrom_np(&fa.fa, 3);

    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    if (spec.argv.empty())
        throw sys_error("posix_spawn", EINVAL);
    pid_t pid = -1;
    const int err = ::posix_spawnp(&pid, argv[0], &fa.fa, &attr.attr, argv.data(), envp.data());
    if (err != 0) // in practice the exec: the same words the spawner uses
        throw sys_error(("execve(" + spec.argv.front() + ")").c_str(), err);
    Child c;
    c.pid_ = pid;
    c.group_ = spec.process_group;
    const int pfd = ::pidfd_open(pid, 0);
    if (pfd < 0) {
        const int e = errno;
        ::kill(spec.process_group ? -pid : pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        c.pid_ = -1;
        throw sys_error("pidfd_open", e);
    }
    ::fcntl(pfd, F_SETFD, FD_CLOEXEC);
    c.watch_.reset(pfd);
    return c;
}

Child Child::remote(Fd control, pid_t pid)
{
    Child c;
    c.pid_ = pid;
    c.watch_ = std::move(control);
    c.remote_ = true;
    return c;
}

std::optional<int> Child::take_report(bool wait)
{
    for (;;) {
        auto got = receive_message(watch_.get(), spawn_protocol::max_message, 0, !wait);
        if (got.kind == Received::Kind::would_block)
            return std::nullopt;
        std::optional<int> status;
        if (got.kind == Received::Kind::message) {
            const auto answer = spawn_protocol::decode_answer(got.bytes.data(), got.bytes.size());
            if (!answer)
                continue; // not for us: the spawner only sends Exited here
            if (const auto* e = std::get_if<spawn_protocol::Exited>(&*answer))
                status = e->wait_status;
            else
                continue;
        } else {
            // The spawner went away: it killed its children on the way out.
            status = SIGKILL;
        }
        watch_.reset();
        pid_ = -1;
        return status;
    }
}

std::optional<int> Child::try_reap()
{
    if (!watch_)
        return std::nullopt;
    if (remote_)
        return take_report(false);
    siginfo_t info{};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(watch_.get()), &info, WEXITED | WNOHANG) < 0)
        return std::nullopt;
    if (info.si_pid == 0)
        return std::nullopt;
    watch_.reset();
    pid_ = -1;
    return wait_status_of(info);
}

int Child::reap()
{
    if (!watch_)
        return W_EXITCODE(127, 0);
    if (remote_)
        return *take_report(true);
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(watch_.get()), &info, WEXITED) < 0) {
        if (errno != EINTR) {
            watch_.reset();
            pid_ = -1;
            return W_EXITCODE(127, 0);
        }
    }
    watch_.reset();
    pid_ = -1;
    return wait_status_of(info);
}

void Child::signal(int sig) noexcept
{
    if (!watch_)
        return;
    if (remote_) {
        try {
            send_message(watch_.get(), spawn_protocol::encode(spawn_protocol::Signal{sig}), {}, true);
        } catch (...) {
            // Out of memory for a few bytes: the session's end closes the socket, which kills it too.
        }
        return;
    }
    // Unreaped, the leader's pid still names its group: no other group can have it.
    if (group_)
        ::kill(-pid_, sig);
    ::pidfd_send_signal(watch_.get(), sig, nullptr, 0);
}

void Child::kill_and_reap() noexcept
{
    if (!watch_)
        return;
    if (remote_) {
        // Closing the control socket is the request: the spawner kills and reaps it.
        watch_.reset();
        pid_ = -1;
        return;
    }
    signal(SIGKILL);
    reap();
}

int wait_status_of(const siginfo_t& info)
{
    if (info.si_code == CLD_EXITED)
        return W_EXITCODE(info.si_status, 0);
    return info.si_status & 0x7f; // killed or dumped: the signal number, as waitpid encodes it
}

std::string describe_wait_status(int status)
{
    if (WIFEXITED(status))
        return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
    return "status " + std::to_string(status);
}

} // namespace tcpproxy
