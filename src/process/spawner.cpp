#include "tcpproxy/process/spawner.hpp"

#include "spawn_protocol.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/net/socket.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <list>
#include <stdexcept>

extern "C" {
#include <sys/pidfd.h>
}

extern char** environ;

namespace tcpproxy {

namespace sp = spawn_protocol;

// -- the daemon's side ----------------------------------------------------------

namespace {

sp::Answer ask(int channel, const sp::Request& request, std::vector<int> fds, Fd& answers, Fd* attached)
{
    auto [ours, theirs] = message_socket_pair();
    fds.insert(fds.begin(), theirs.get());
    if (const int err = send_message(channel, sp::encode(request), fds))
        throw sys_error("spawner: sendmsg", err);
    theirs.reset();
    auto got = receive_message(ours.get(), sp::max_message, attached ? 1 : 0);
    if (got.kind != Received::Kind::message)
        throw sys_error("spawner: no answer", got.err ? got.err : EPIPE);
    auto answer = sp::decode_answer(got.bytes.data(), got.bytes.size());
    if (!answer || got.fds.size() != sp::descriptors_of(*answer))
        throw sys_error("spawner: malformed answer", EPROTO);
    if (attached && !got.fds.empty())
        *attached = std::move(got.fds.front());
    answers = std::move(ours);
    return *answer;
}

[[noreturn]] void throw_failed(const sp::Failed& f) { throw sys_error(f.call, f.err); }

} // namespace

Child SpawnerClient::spawn(const Child::Spec& spec)
{
    if (!spec.handler)
        throw sys_error("not allowed: a program that is no service's handler", EPERM);
    sp::Spawn req{spec.handler->generation, spec.handler->service, spec.handler->role, spec.handler->variables, 0};
    std::vector<int> fds;
    const int stdio[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
    for (int i = 0; i < 3; ++i)
        if (stdio[i] >= 0) {
            req.stdio |= static_cast<std::uint8_t>(1u << i);
            fds.push_back(stdio[i]);
        }
    Fd control;
    const auto answer = ask(channel_.get(), req, fds, control, nullptr);
    if (const auto* f = std::get_if<sp::Failed>(&answer))
        throw_failed(*f);
    const auto* started = std::get_if<sp::Started>(&answer);
    if (!started)
        throw sys_error("spawner: unexpected answer to spawn", EPROTO);
    return Child::remote(std::move(control), started->pid);
}

bool SpawnerClient::alive() const
{
    pollfd p{channel_.get(), POLLOUT, 0};
    // The spawner's end closed (it died): POLLHUP, or POLLERR after a failed send.
    return ::poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

Fd SpawnerClient::listen(const Endpoint& where, bool v6only, int backlog)
{
    Fd answers, sock;
    const auto answer = ask(channel_.get(), sp::Bind{where, v6only, backlog}, {}, answers, &sock);
    if (const auto* f = std::get_if<sp::Failed>(&answer))
        throw_failed(*f);
    if (!std::holds_alternative<sp::Bound>(answer) || !sock)
        throw sys_error("spawner: unexpected answer to bind", EPROTO);
    return sock;
}

Result<SpawnerClient::Reloaded> SpawnerClient::reload()
{
    Fd answers, text;
    const auto answer = ask(channel_.get(), sp::Reload{}, {}, answers, &text);
    if (const auto* f = std::get_if<sp::Failed>(&answer))
        return fail(f->call);
    const auto* got = std::get_if<sp::ConfigText>(&answer);
    if (!got || !text)
        throw sys_error("spawner: unexpected answer to reload", EPROTO);
    return Reloaded{read_sealed_text(text.get(), got->size), got->generation};
}

// -- the spawner process ----------------------------------------------------------

namespace {

struct Running {
    pid_t pid;
    Fd pidfd;
    Fd control; // invalid once the daemon closed it (the program is then being killed)
    bool group; // leads its own process group: signals go to all of it

    // Only while unreaped: then the leader's pid still names its group.
    void signal(int signo) const
    {
        if (group)
            ::kill(-pid, signo);
        ::pidfd_send_signal(pidfd.get(), signo, nullptr, 0);
    }
};

struct ExecFailure {
    int stage; // 0 setgroups, 1 setresgid, 2 setresuid, 3 execve, 4 open(/dev/null), 5 setpgid
    int err;
};

void reply(int sock, const sp::Answer& a, const std::vector<int>& fds = {})
{
    // Non-blocking: an answer nobody reads (a daemon thread gone) must not stall the spawner.
    send_message(sock, sp::encode(a), fds, true);
}

std::string stage_call(int stage, const Launch& l)
{
    switch (stage) {
    case 0:
        return "setgroups(" + std::to_string(l.as.gid) + ")";
    case 1:
        return "setresgid(" + std::to_string(l.as.gid) + ")";
    case 2:
        return "setresuid(" + std::to_string(l.as.uid) + ")";
    case 4:
        return "open(/dev/null)";
    case 5:
        return "setpgid";
    default:
        return "execve(" + l.argv.front() + ")";
    }
}

// In the forked child: take the descriptors and the identity, then exec.
[[noreturn]] void exec_child(const Launch& l, std::uint8_t stdio, const std::vector<Fd>& fds,
                             const std::vector<gid_t>& groups, int report)
{
    auto fail = [report](int stage) {
        const ExecFailure f{stage, errno};
        [[maybe_unused]] auto n = ::write(report, &f, sizeof f);
        ::_exit(127);
    };
    if (l.process_group && ::setpgid(0, 0) < 0)
        fail(5);
    std::size_t next = 1; // fds[0] is the control socket
    for (int i = 0; i < 3; ++i) {
        int src;
        if (stdio & (1u << i)) {
            src = fds[next++].get();
        } else {
            src = ::open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY | O_CLOEXEC);
            if (src < 0)
                fail(4);
        }
        // Every received descriptor is above 2 (ours are taken): dup2 never clobbers a later source.
        if (::dup2(src, i) < 0)
            fail(4);
    }
    // Belt and braces: whatever else is open here must not reach the program.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (::setgroups(groups.size(), groups.data()) < 0)
        fail(0);
    if (::setresgid(l.as.gid, l.as.gid, l.as.gid) < 0)
        fail(1);
    if (::setresuid(l.as.uid, l.as.uid, l.as.uid) < 0)
        fail(2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    std::vector<char*> argv, envp;
    for (const auto& a : l.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : l.env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    fail(3);
    ::_exit(127);
}

// Only the daemon that wrote the pidfile removes it: the file still names
// our daemon (the spawner's parent), read without following a link or
// blocking on a FIFO. The daemon holds the file's lock until after this.
bool names_pid(const std::string& path, pid_t pid)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    char buf[32] = {};
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    return n > 0 && std::string(buf, static_cast<std::size_t>(n)) == std::to_string(pid) + "\n";
}

class SpawnerLoop {
public:
    SpawnerLoop(Fd channel, CommandLine cl, SpawnerPolicy policy, std::string pidfile)
        : channel_(std::move(channel)), cl_(std::move(cl)), policy_(std::move(policy)), pidfile_(std::move(pidfile))
    {
    }

    [[noreturn]] void run()
    {
        std::vector<pollfd> fds;
        for (;;) {
            fds.clear();
            fds.push_back({channel_.get(), POLLIN, 0});
            for (const auto& r : running_) {
                fds.push_back({r.pidfd.get(), POLLIN, 0});
                fds.push_back({r.control.get(), POLLIN, 0}); // -1 once closed: poll skips it
            }
            if (::poll(fds.data(), fds.size(), -1) < 0)
                continue;
            std::size_t i = 1;
            for (auto it = running_.begin(); it != running_.end(); i += 2) {
                const bool exited = fds[i].revents != 0;
                if (fds[i + 1].revents)
                    on_control(*it);
                if (exited && reaped(*it)) {
                    it = running_.erase(it);
                    continue;
                }
                ++it;
            }
            if (fds[0].revents && !on_request())
                break;
        }
        shut_down();
    }

private:
    bool reaped(Running& r)
    {
        siginfo_t info{};
        if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(r.pidfd.get()), &info, WEXITED | WNOHANG) < 0 ||
            info.si_pid == 0)
            return false;
        if (r.control)
            reply(r.control.get(), sp::Exited{wait_status_of(info)});
        return true;
    }

    void on_control(Running& r)
    {
        auto got = receive_message(r.control.get(), 64, 0, true);
        if (got.kind == Received::Kind::would_block)
            return;
        if (got.kind == Received::Kind::message) {
            if (const auto s = sp::decode_signal(got.bytes.data(), got.bytes.size()))
                r.signal(s->signo);
            return;
        }
        // The daemon let go of the program (its session ended): it must not outlive that.
        r.signal(SIGKILL);
        r.control.reset();
    }

    // False when the daemon is gone.
    bool on_request()
    {
        auto got = receive_message(channel_.get(), sp::max_message, 4, true);
        if (got.kind == Received::Kind::would_block)
            return true;
        if (got.kind == Received::Kind::closed)
            return false;
        if (got.kind == Received::Kind::broken) {
            // A message that does not fit or says nothing is the daemon's
            // fault, not its end: refused and logged, and we keep serving.
            if (got.err == EMSGSIZE || got.err == EPROTO) {
                log::error(std::string("spawner: protocol error: ") +
                           (got.err == EMSGSIZE ? "oversized request" : "empty request") + " refused");
                return true;
            }
            return false;
        }
        const auto request = sp::decode_request(got.bytes.data(), got.bytes.size());
        if (!request || got.fds.size() != sp::descriptors_of(*request)) {
            log::error("spawner: protocol error: malformed request of " + std::to_string(got.bytes.size()) +
                       " bytes with " + std::to_string(got.fds.size()) + " descriptors refused");
            return true;
        }
        if (const auto* s = std::get_if<sp::Spawn>(&*request))
            spawn(*s, got.fds);
        else if (const auto* b = std::get_if<sp::Bind>(&*request))
            bind(*b, got.fds.front().get());
        else
            reload(got.fds.front().get());
        return true;
    }

    void spawn(const sp::Spawn& r, std::vector<Fd>& fds)
    {
        const int answer = fds.front().get();
        const auto launch = resolve(policy_, r);
        if (!launch) {
            log::error("spawner: refused: " + launch.error().message);
            reply(answer, sp::Failed{EPERM, launch.error().message});
            return;
        }
        const Launch& l = *launch;
        const auto groups = supplementary_groups(l.as.uid, l.as.gid);
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) {
            reply(answer, sp::Failed{errno, "pipe2"});
            return;
        }
        Fd report_read(p[0]), report_write(p[1]);
        const pid_t pid = ::fork();
        if (pid < 0) {
            reply(answer, sp::Failed{errno, "fork"});
            return;
        }
        if (pid == 0)
            exec_child(l, r.stdio, fds, groups, report_write.get());
        report_write.reset();
        ExecFailure failure{};
        ssize_t n;
        while ((n = ::read(report_read.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
        }
        if (n == static_cast<ssize_t>(sizeof failure)) {
            ::waitpid(pid, nullptr, 0);
            reply(answer, sp::Failed{failure.err, stage_call(failure.stage, l)});
            return;
        }
        Fd pidfd(::pidfd_open(pid, 0));
        if (!pidfd) {
            const int err = errno;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            reply(answer, sp::Failed{err, "pidfd_open"});
            return;
        }
        ::fcntl(pidfd.get(), F_SETFD, FD_CLOEXEC);
        reply(answer, sp::Started{pid});
        // The client socket and pipes are the program's now: we keep only its control socket.
        running_.push_back(Running{pid, std::move(pidfd), std::move(fds.front()), l.process_group});
    }

    void bind(const sp::Bind& b, int answer)
    {
        if (auto why = refusal(policy_, b); !why.empty()) {
            log::error("spawner: refused: " + why);
            reply(answer, sp::Failed{EPERM, why});
            return;
        }
        try {
            Fd sock = listen_on(b.where, b.v6only, b.backlog);
            reply(answer, sp::Bound{}, {sock.get()});
        } catch (const std::system_error& e) {
            reply(answer, sp::Failed{e.code().value(), std::string("bind(") + b.where.str() + ")"});
        }
    }

    // Reads the file once: the text we adopt is the text the daemon gets,
    // valid or not (it reports the diagnostics, we keep our old policy).
    void reload(int answer)
    {
        if (cl_.server) {
            reply(answer, sp::Failed{EINVAL, "running from the command line (-b): nothing to reload"});
            return;
        }
        const auto read = read_config_text(cl_.config_file, false);
        if (!read) {
            reply(answer, sp::Failed{EIO, read.error().message});
            return;
        }
        Fd sealed;
        try {
            sealed = sealed_text(*read);
        } catch (const std::system_error& e) {
            reply(answer, sp::Failed{e.code().value(), e.what()});
            return;
        }
        auto loaded = parse_config(*read, cl_.config_file);
        std::uint32_t generation = 0;
        if (loaded.config) {
            auto settings = apply_command_line(cl_, loaded.config);
            if (settings)
                generation = adopt(policy_, *settings);
        }
        reply(answer, sp::ConfigText{static_cast<std::uint32_t>(read->size()), generation}, {sealed.get()});
    }

    [[noreturn]] void shut_down()
    {
        for (auto& r : running_)
            r.signal(SIGKILL);
        for (auto& r : running_) {
            siginfo_t info{};
            while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(r.pidfd.get()), &info, WEXITED) < 0 &&
                   errno == EINTR) {
            }
        }
        if (!pidfile_.empty() && names_pid(pidfile_, ::getppid()))
            ::unlink(pidfile_.c_str());
        ::_exit(0);
    }

    Fd channel_;
    CommandLine cl_;
    SpawnerPolicy policy_;
    std::string pidfile_;
    std::list<Running> running_;
};

} // namespace

std::unique_ptr<Spawner> Spawner::start(const CommandLine& cl, const Config& config, std::string pidfile)
{
    auto [daemon_end, spawner_end] = message_socket_pair();
    SpawnerPolicy policy = spawner_policy(std::make_shared<const Config>(config), default_credentials(), environ);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw sys_error("fork (spawner)");
    if (pid == 0) {
        daemon_end.reset();
        // Nothing of the daemon's but the channel and stdio: no listening
        // socket stays open here after the daemon closes it.
        if (spawner_end.get() != 3) {
            if (::dup2(spawner_end.get(), 3) < 0)
                ::_exit(1);
            spawner_end.reset(3);
        }
        ::fcntl(3, F_SETFD, FD_CLOEXEC);
        ::close_range(4, ~0U, 0);
        try {
            SpawnerLoop(std::move(spawner_end), cl, std::move(policy), std::move(pidfile)).run();
        } catch (...) {
        }
        ::_exit(1);
    }
    std::unique_ptr<Spawner> s(new Spawner);
    s->pid_ = pid;
    s->client_ = std::make_shared<SpawnerClient>(std::move(daemon_end));
    return s;
}

Spawner::~Spawner()
{
    client_->close();
    if (pid_ > 0)
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
}

} // namespace tcpproxy
