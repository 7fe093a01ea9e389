#include "tcpproxy/session/session.hpp"

#include "tcpproxy/net/original_destination.hpp"
#include "tcpproxy/process/environment.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/config/dispatch.hpp"
#include "capture_open.hpp"
#include "tcpproxy/process/supervisor.hpp"
#include "proxy_header_io.hpp"
#include "redirect.hpp"
#include "relay.hpp"
#include "upstream.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/net/socket.hpp"

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
    peer_known_ = start.peer.has_value();
    if (start.peer)
        record_.client = *start.peer;
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
        const auto out = relay(client_.get(), server_.get(), activity_, record_.bytes_client, capture_.get(),
                               Direction::client_to_server);
        on_relay_end(out, true);
    }
    leave(0);
}

void Session::run_secondary()
{
    enter(1);
    const auto out = relay(server_.get(), client_.get(), activity_, record_.bytes_server, capture_.get(),
                           Direction::server_to_client);
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
        r.local = local_endpoint(client_.get()); // the section is chosen by it
        if (!peer_known_)
            r.client = peer_endpoint(client_.get());
    } catch (const std::exception& e) {
        end(Status::client, e.what()); // gone before we looked
        return false;
    }
    const PortConfig* port = find_port(*config_, r.local.port);
    r.service = port ? match_service(*port, r.local.ip, interface_addresses) : nullptr;
    // accept-proxy: the header names the client, for everything from here on.
    const std::string proxy_refusal =
        r.service && r.service->accept_proxy ? take_client_proxy_header(r, client_.get(), activity_) : "";
    const IpAddress client_ip = r.client.ip.unmapped();
    r.client_name = config_->resolve_names ? host_name_of(client_ip) : client_ip.str();
    if (r.service && r.service->redirect != RedirectMode::none)
        r.origdst = redirected_from(client_.get(), r.local);
    reaper_.started(r);
    if (activity_.stopping())
        return false;
    if (!r.service) {
        end(Status::access, "no section for " + Endpoint{r.local.ip.unmapped(), r.local.port}.str());
        return false;
    }
    if (!proxy_refusal.empty()) {
        end(Status::access, proxy_refusal);
        return false;
    }
    const auto redirect = redirect_action(r.service->redirect, r.origdst.has_value(), !r.service->exec.empty(),
                                          r.origdst && is_own_listener(*config_, *r.origdst));
    if (r.origdst)
        log::notice("redirected: original destination " + r.origdst->str(), r.id);
    if (redirect == RedirectAction::refuse_direct) {
        end(Status::access, "not a redirected connection (redirect-mode forward-only)");
        return false;
    }
    if (redirect == RedirectAction::refuse_loop) {
        end(Status::access, "original destination " + r.origdst->str() + " is this proxy itself");
        return false;
    }
    if (!access_allowed())
        return false;
    if (!r.service->exec.empty()) {
        run_handler();
        return false;
    }

    auto up = redirect == RedirectAction::original ? connect_original(*r.service, *r.origdst, activity_)
                                                   : connect_upstream(*r.service, r.local.port, activity_, r.id);
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
    if (r.service->proxy_protocol) {
        bool stopped = false;
        const auto err = send_upstream_proxy_header(r, server_.get(), activity_, stopped);
        if (stopped)
            return false;
        if (!err.empty()) {
            end(Status::server, err);
            return false;
        }
    }
    capture_ = open_capture(r, main_pid_);
    // The idle clock starts now: connecting (and failing over) is not idleness.
    activity_.reset_timeout(r.service->timeout);
    return !activity_.stopping();
}

bool Session::access_allowed()
{
    // The access check sits here, before any upstream connection or program:
    // the ACL, then the access control program (reference §4.3).
    const auto& s = *record_.service;
    if (!acl_allows(s.acl, record_.client.ip.unmapped())) {
        end(Status::access, "client " + record_.client.ip.unmapped().str() + " denied by the ACL");
        return false;
    }
    if (s.acp.empty())
        return true;

    auto [err_read, err_write] = stderr_pipe();
    const auto vars = session_variables(record_, VariableStage::handler, main_pid_);
    Child::Spec spec{{s.acp}, build_environment(vars, s.var_prefix, config_->empty_env, environ), -1, -1,
                     err_write.get()};
    Child child;
    try {
        child = launch::program(spec, s.user);
    } catch (const std::exception& e) {
        end(Status::access, std::string("acp ") + s.acp + ": " + e.what());
        return false;
    }
    err_write.reset();
    const auto deadline = Activity::now_ms() + static_cast<std::int64_t>(s.connect_timeout()) * 1000;
    const auto out = watch_child(child, err_read, activity_, deadline, 0, "acp", record_.id);
    switch (out.kind) {
    case ChildEnd::Kind::stopped:
        return false;
    case ChildEnd::Kind::timed_out:
        end(Status::access, "acp " + s.acp + ": no answer within " + std::to_string(s.connect_timeout()) + " s");
        return false;
    case ChildEnd::Kind::exited:
        break;
    }
    if (WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) == 0)
        return true;
    end(Status::access, "acp " + s.acp + " denied: " + describe_wait_status(out.wait_status));
    return false;
}

void Session::run_handler()
{
    const Service& s = *record_.service;
    record_.program = s.exec.front();
    // The handler gets the socket as its stdin/stdout and expects blocking I/O;
    // the flag lives in the open file description it shares with us.
    const int flags = ::fcntl(client_.get(), F_GETFL);
    if (flags >= 0)
        ::fcntl(client_.get(), F_SETFL, flags & ~O_NONBLOCK);

    auto [err_read, err_write] = stderr_pipe();
    const auto vars = session_variables(record_, VariableStage::handler, main_pid_);
    Child::Spec spec{s.exec, build_environment(vars, s.var_prefix, config_->empty_env, environ), client_.get(),
                     client_.get(), err_write.get()};
    Child child;
    try {
        child = launch::program(spec, s.user);
    } catch (const std::exception& e) {
        end(Status::proxy, std::string("handler ") + s.exec.front() + ": " + e.what());
        return;
    }
    err_write.reset();
    // No idle timeout: the handler owns the connection until it exits.
    const auto out = watch_child(child, err_read, activity_, -1, handler_grace_ms, "handler", record_.id);
    if (!(WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) == 0))
        end(Status::proxy, "handler " + s.exec.front() + ": " + describe_wait_status(out.wait_status));
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
    close_capture(capture_, record_.id); // may wait for the disk: not part of the session's duration
    config_.reset();
    host_.finished(*this, std::move(record_));
}

} // namespace tcpproxy
