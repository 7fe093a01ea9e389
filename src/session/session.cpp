#include "session/session.hpp"

#include "process/environment.hpp"
#include "server/dispatch.hpp"
#include "session/relay.hpp"
#include "session/upstream.hpp"
#include "session/wake.hpp"
#include "tcpproxy/log.hpp"
#include "tcpproxy/socket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>

extern char** environ;

namespace tcpproxy {

namespace {

// How long a handler may take to go after SIGTERM when its session is ended
// from outside (shutdown) before it is killed.
constexpr std::int64_t handler_grace_ms = 5000;

} // namespace

Session::Session(SessionHost& host, Reaper& reaper, long main_pid)
    : host_(host), reaper_(reaper), main_pid_(main_pid)
{
}

void Session::assign(SessionStart start)
{
    client_ = std::move(start.client);
    server_.reset();
    config_ = std::move(start.config);
    record_ = SessionRecord{};
    record_.id = start.id;
    record_.config = config_;
    record_.started = std::chrono::system_clock::now();
    record_.started_steady = std::chrono::steady_clock::now();
    activity_.reset(0);
    failures_ = 0;
    std::lock_guard lock(mutex_);
    ended_ = false;
    status_ = Status::ok;
    reason_.clear();
    reset_client_ = reset_server_ = false;
    inside_[0] = inside_[1] = false;
    child_ = nullptr;
    threads_left_.store(1, std::memory_order_relaxed);
}

void Session::enter(int which)
{
    std::lock_guard lock(mutex_);
    threads_[which] = ::pthread_self();
    inside_[which] = true;
}

void Session::leave(int which)
{
    {
        std::lock_guard lock(mutex_);
        inside_[which] = false;
    }
    if (threads_left_.fetch_sub(1, std::memory_order_acq_rel) == 1)
        finish();
}

void Session::end(Status status, std::string reason, bool reset_client, bool reset_server)
{
    std::lock_guard lock(mutex_);
    if (ended_)
        return;
    ended_ = true;
    status_ = status;
    reason_ = std::move(reason);
    reset_client_ = reset_client;
    reset_server_ = reset_server;
    activity_.stop();
    const pthread_t self = ::pthread_self();
    for (int i = 0; i < 2; ++i)
        if (inside_[i] && !::pthread_equal(threads_[i], self))
            wake::wake(threads_[i]);
    if (child_)
        child_->signal(SIGTERM);
}

void Session::stop(Status status, const std::string& reason) { end(status, reason); }

void Session::run_primary()
{
    enter(0);
    bool relaying = false;
    try {
        relaying = prepare();
    } catch (const std::exception& e) {
        end(Status::proxy, e.what());
    }
    if (relaying) {
        threads_left_.store(2, std::memory_order_relaxed);
        host_.start_secondary(*this);
        const auto out = relay(client_.get(), server_.get(), activity_, record_.bytes_client);
        on_relay_end(out, true);
    }
    leave(0);
}

void Session::run_secondary()
{
    enter(1);
    const auto out = relay(server_.get(), client_.get(), activity_, record_.bytes_server);
    on_relay_end(out, false);
    leave(1);
}

void Session::on_relay_end(const RelayOutcome& out, bool to_server)
{
    using Kind = RelayOutcome::Kind;
    const char* dir = to_server ? "client->server" : "server->client";
    switch (out.kind) {
    case Kind::eof:
    case Kind::stopped:
        return;
    case Kind::idle:
        end(Status::timeout, "idle for " + std::to_string(record_.service->timeout) + " s");
        return;
    case Kind::read_failed:
        // The side we read from failed: reset the other one too.
        if (to_server)
            end(Status::client, std::string(dir) + ": client: " + log::syscall_failed("read", out.err), false, true);
        else
            end(Status::server, std::string(dir) + ": server: " + log::syscall_failed("read", out.err), true, false);
        return;
    case Kind::write_failed:
        if (to_server)
            end(Status::server, std::string(dir) + ": server: " + log::syscall_failed("write", out.err), true, false);
        else
            end(Status::client, std::string(dir) + ": client: " + log::syscall_failed("write", out.err), false, true);
        return;
    }
}

bool Session::prepare()
{
    auto& r = record_;
    try {
        r.local = local_endpoint(client_.get());
        r.client = peer_endpoint(client_.get());
    } catch (const std::exception& e) {
        end(Status::client, e.what()); // gone before we looked
        return false;
    }
    const PortConfig* port = find_port(*config_, r.local.port);
    r.service = port ? match_service(*port, r.local.ip, interface_addresses) : nullptr;
    const IpAddress client_ip = r.client.ip.unmapped();
    r.client_name = config_->resolve_names ? host_name_of(client_ip) : client_ip.str();
    reaper_.started(r);
    if (activity_.stopping())
        return false;
    if (!r.service) {
        end(Status::access, "no section for " + Endpoint{r.local.ip.unmapped(), r.local.port}.str());
        return false;
    }
    if (!access_allowed())
        return false;
    if (!r.service->exec.empty()) {
        run_handler();
        return false;
    }

    auto up = connect_upstream(*r.service, r.local.port, activity_, r.id);
    if (up.stopped)
        return false;
    failures_ = up.failures;
    if (!up.fd) {
        end(Status::connect, up.error.empty() ? "no server" : up.error);
        return false;
    }
    server_ = std::move(up.fd);
    r.server = up.server;
    r.server_name = up.server_name;
    r.outgoing = up.outgoing;
    reaper_.connected(r);
    // The idle clock starts now: connecting (and failing over) is not idleness.
    activity_.reset_timeout(r.service->timeout);
    return !activity_.stopping();
}

bool Session::access_allowed()
{
    // The access check sits here, before any upstream connection or program:
    // ACL first; the access control program (acp) joins it in this step.
    const auto& s = *record_.service;
    if (!acl_allows(s.acl, record_.client.ip.unmapped())) {
        end(Status::access, "client " + record_.client.ip.unmapped().str() + " denied by the ACL");
        return false;
    }
    return true;
}

void Session::run_handler()
{
    const Service& s = *record_.service;
    record_.program = s.exec.front();
    int errp[2];
    if (::pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
        end(Status::proxy, log::syscall_failed("pipe2", errno));
        return;
    }
    Fd err_read(errp[0]), err_write(errp[1]);
    // The handler gets the socket as its stdin/stdout and expects blocking I/O;
    // the flag lives in the open file description it shares with us.
    const int flags = ::fcntl(client_.get(), F_GETFL);
    if (flags >= 0)
        ::fcntl(client_.get(), F_SETFL, flags & ~O_NONBLOCK);

    const auto vars = session_variables(record_, VariableStage::handler, main_pid_);
    Child::Spec spec{s.exec, build_environment(vars, s.var_prefix, config_->empty_env, environ), client_.get(),
                     client_.get(), err_write.get()};
    Child child;
    try {
        child = Child::spawn(spec);
    } catch (const std::exception& e) {
        end(Status::proxy, std::string("handler ") + s.exec.front() + ": " + e.what());
        return;
    }
    err_write.reset();
    {
        std::lock_guard lock(mutex_);
        child_ = &child;
        if (ended_)
            child.signal(SIGTERM);
    }

    std::string partial;
    auto log_stderr = [&](bool flush) {
        char buf[1024];
        for (;;) {
            const ssize_t n = ::read(err_read.get(), buf, sizeof buf);
            if (n <= 0) {
                if (n == 0 || (errno != EINTR))
                    break;
                continue;
            }
            partial.append(buf, static_cast<std::size_t>(n));
            for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
                log::warning("handler: " + partial.substr(0, nl), record_.id);
                partial.erase(0, nl + 1);
            }
        }
        if (flush && !partial.empty()) {
            log::warning("handler: " + partial, record_.id);
            partial.clear();
        }
    };

    std::int64_t kill_at = -1;
    int wait_status = 0;
    bool err_open = true;
    for (;;) {
        if (activity_.stopping() && kill_at < 0)
            kill_at = Activity::now_ms() + handler_grace_ms;
        int timeout = -1;
        if (kill_at >= 0) {
            timeout = static_cast<int>(std::max<std::int64_t>(0, kill_at - Activity::now_ms()));
            if (timeout == 0)
                child.signal(SIGKILL);
        }
        pollfd fds[2] = {{child.pidfd(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
        const int n = wake::poll(fds, err_open ? 2 : 1, timeout);
        if (n <= 0)
            continue;
        if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            log_stderr(false);
            if (!(fds[1].revents & POLLIN))
                err_open = false; // hung up with nothing more to read
        }
        if (fds[0].revents & POLLIN) {
            if (auto st = child.try_reap()) {
                wait_status = *st;
                break;
            }
        }
    }
    log_stderr(true); // what it wrote just before exiting (a grandchild holding the pipe is not waited for)
    {
        std::lock_guard lock(mutex_);
        child_ = nullptr;
    }
    if (!(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0))
        end(Status::proxy, "handler " + s.exec.front() + ": " + describe_wait_status(wait_status));
}

void Session::finish()
{
    // Both directions are done with the descriptors: closing is safe now.
    {
        std::lock_guard lock(mutex_);
        if (reset_client_ && client_)
            set_linger_zero(client_.get());
        if (reset_server_ && server_)
            set_linger_zero(server_.get());
        record_.status = ended_ ? status_ : (failures_ > 0 ? Status::warning : Status::ok);
        record_.reason = ended_ ? reason_ : (failures_ > 0 ? std::to_string(failures_) + " server(s) failed" : "");
    }
    client_.reset();
    server_.reset();
    record_.duration = std::chrono::steady_clock::now() - record_.started_steady;
    config_.reset();
    host_.finished(*this, std::move(record_));
}

} // namespace tcpproxy
