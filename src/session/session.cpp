// One connection's life, top to bottom: prepare() reads as the stages a
// connection goes through before bytes flow (which section, who the client
// is, whether it may come in, where it goes), then the two relay directions,
// then finish(). What each stage needs beyond the session itself is in the
// file of its role: upstream.cpp (where to and getting there), relay.cpp
// (moving bytes), proxy_protocol.cpp (the PROXY header's format).
#include "tcpproxy/session/session.hpp"

#include "tcpproxy/config/dispatch.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/net/socket.hpp"
#include "tcpproxy/process/environment.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/session/proxy_protocol.hpp"
#include "tcpproxy/session/client_limit.hpp"
#include "tcpproxy/session/client_name.hpp"
#include "relay.hpp"
#include "upstream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <array>
#include <exception>

extern char** environ;

namespace tcpproxy {

namespace {

// How long a handler may take to go after SIGTERM when its session is ended
// from outside (shutdown) before it is killed.
constexpr std::int64_t handler_grace_ms = 5000;

std::int64_t connect_deadline(const Service& s, const Activity& activity)
{
    return activity.now() + static_cast<std::int64_t>(s.connect_timeout()) * 1000;
}

// Reads exactly one v1 or v2 PROXY header from the non-blocking socket `fd`,
// never a byte of what follows it, before `deadline_ms`.
Result<proxy_protocol::Header> read_proxy_header(int fd, const Activity& activity, std::int64_t deadline_ms)
{
    namespace pp = proxy_protocol;
    // Bytes taken off the socket so far: all of them belong to the header
    // (the parser said it needed more after seeing them).
    std::array<std::uint8_t, pp::max_header_length> buf{};
    std::size_t taken = 0;
    for (;;) {
        switch (activity.wait_until(fd, POLLIN, deadline_ms)) {
        case Activity::Wait::stopped:
            return fail("stopped");
        case Activity::Wait::idle:
            return fail(taken ? "PROXY header incomplete after " + std::to_string(taken) + " bytes at the timeout"
                              : "no PROXY header before the timeout");
        case Activity::Wait::ready:
            break;
        }
        // Peek first: what follows the header is payload and stays in the
        // socket for the relay (or the handler program, which reads the socket itself).
        const ssize_t n = ::recv(fd, buf.data() + taken, buf.size() - taken, MSG_PEEK);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return fail("PROXY header: " + errno_text("recv"));
        }
        if (n == 0)
            return fail(taken ? "connection closed inside the PROXY header"
                              : "connection closed before a PROXY header");
        const std::size_t seen = taken + static_cast<std::size_t>(n);
        const auto r = pp::parse(std::span<const std::uint8_t>(buf.data(), seen));
        if (r.kind == pp::ParseResult::Kind::error)
            return fail("PROXY header: " + r.error);
        // need_more: consume everything peeked (all header) so that poll()
        // waits for new bytes instead of reporting these again.
        const std::size_t want =
            r.kind == pp::ParseResult::Kind::header ? r.header.length - taken : static_cast<std::size_t>(n);
        std::size_t got = 0;
        while (got < want) {
            const ssize_t m = ::recv(fd, buf.data() + taken + got, want - got, 0);
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0) // the bytes were peeked: only a reset takes them away
                return fail("PROXY header: " + (m < 0 ? errno_text("recv") : "connection closed"));
            got += static_cast<std::size_t>(m);
        }
        taken += want;
        if (r.kind == pp::ParseResult::Kind::header)
            return r.header;
    }
}

} // namespace

Session::Session(SessionHost& host, Reaper& reaper, long main_pid) : host_(host), reaper_(reaper), main_pid_(main_pid)
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

// --- The two threads -------------------------------------------------------

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

// --- Before the relay: the stages, in the order a connection meets them -----

bool Session::prepare()
{
    if (!identify())
        return false;
    match_section();
    // Nothing that can wait (a PROXY header, a name lookup) for a client the
    // ACL turns away: admit() refuses it once the session has been announced.
    const bool denied = denied_at_once();
    // accept-proxy: the header names the client, for everything from here on;
    // a refusal is reported once the session has been announced.
    const auto proxy_header = denied ? Result<void>{} : take_proxy_header();
    // Names are looked up only for clients that will be let in.
    const IpAddress client = record_.client.ip.unmapped();
    if (!denied && proxy_header && record_.service && acl_allows(record_.service->acl, client))
        name_client();
    else
        record_.client_name = client.str();
    find_original_destination();
    reaper_.started(record_);
    if (activity_.stopping())
        return false;
    const auto redirect = admit(proxy_header);
    if (!redirect)
        return false;
    if (!record_.service->exec.empty()) {
        run_handler();
        return false;
    }
    if (!connect(*redirect) || !send_proxy_header())
        return false;
    open_capture();
    // The idle clock starts now: connecting (and failing over) is not idleness.
    activity_.reset_timeout(record_.service->timeout);
    return !activity_.stopping();
}

// Our end and the client's, as the socket says.
bool Session::identify()
{
    try {
        record_.local = local_endpoint(client_.get()); // the section is chosen by it
        if (!peer_known_)
            record_.client = peer_endpoint(client_.get());
    } catch (const std::exception& e) {
        return refuse(Status::client, e.what()); // gone before we looked
    }
    return true;
}

void Session::match_section()
{
    const PortConfig* port = find_port(*config_, record_.local.port);
    record_.service = port ? match_service(*port, record_.local.ip, interface_addresses) : nullptr;
}

// Without accept-proxy the socket's peer is the client: the ACL decides now.
bool Session::denied_at_once() const
{
    const Service* s = record_.service;
    return s && !s->accept_proxy && !acl_allows(s->acl, record_.client.ip.unmapped());
}

Result<void> Session::take_proxy_header()
{
    const Service* s = record_.service;
    if (!s || !s->accept_proxy)
        return {};
    const IpAddress peer = record_.client.ip.unmapped();
    if (s->accept_proxy_from && !acl_allows(*s->accept_proxy_from, peer))
        return fail("peer " + peer.str() + " may not send a PROXY header (accept-proxy-from)");
    // A deadline of its own: a silent peer must not hold a slot for `timeout`.
    const auto deadline = activity_.now() + static_cast<std::int64_t>(s->proxy_header_timeout) * 1000;
    const auto header = read_proxy_header(client_.get(), activity_, deadline);
    if (!header)
        return fail(header.error().message + " (from " + record_.client.str() + ")");
    if (header->source) {
        record_.via = record_.client;
        record_.client = *header->source;
    }
    return {};
}

void Session::name_client()
{
    const IpAddress ip = record_.client.ip.unmapped();
    record_.client_name = ip.str();
    if (!config_->resolve_names)
        return;
    if (auto name = client_name_within(ip, activity_))
        record_.client_name = std::move(*name);
    else if (!activity_.stopping())
        log::notice("session=" + std::to_string(record_.id) + " client name of " + ip.str() + " not found within " +
                        std::to_string(name_lookup_budget_ms / 1000) + " s; named by its address",
                    record_.id);
}

void Session::find_original_destination()
{
    if (record_.service && record_.service->redirect != RedirectMode::none)
        record_.origdst = redirected_from(client_.get(), record_.local);
}

// Whether the connection may come in: a section, a good PROXY header, a
// redirect it may take, then access (ACL, acp). The redirect action when it may.
std::optional<RedirectAction> Session::admit(const Result<void>& proxy_header)
{
    const auto& r = record_;
    if (!r.service) {
        refuse(Status::access, "no section for " + Endpoint{r.local.ip.unmapped(), r.local.port}.str());
        return std::nullopt;
    }
    if (!proxy_header) {
        refuse(Status::access, proxy_header.error().message);
        return std::nullopt;
    }
    const auto redirect = redirect_action(r.service->redirect, r.origdst.has_value(), !r.service->exec.empty(),
                                          r.origdst && is_own_listener(*config_, *r.origdst));
    if (r.origdst)
        log::notice("session=" + std::to_string(r.id) + " redirected: original destination " + r.origdst->str(), r.id);
    if (redirect == RedirectAction::refuse_direct) {
        refuse(Status::access, "not a redirected connection (redirect-mode forward-only)");
        return std::nullopt;
    }
    if (redirect == RedirectAction::refuse_loop) {
        refuse(Status::access, "original destination " + r.origdst->str() + " is this proxy itself");
        return std::nullopt;
    }
    if (!access_allowed())
        return std::nullopt;
    return redirect;
}

bool Session::access_allowed()
{
    // The access check sits here, before any upstream connection or program:
    // the ACL, then the access control program (reference §4.3).
    const auto& s = *record_.service;
    const IpAddress client = record_.client.ip.unmapped();
    if (!acl_allows(s.acl, client))
        return refuse(Status::access, "client " + client.str() + " denied by the ACL");
    if (s.max_per_client) {
        auto slot = ClientSlot::take(&s, client, s.max_per_client);
        if (!slot)
            return refuse(Status::access, "client " + client_key(client).str() + (client.is_v4() ? "" : "/64") +
                                              " already holds " + std::to_string(s.max_per_client) +
                                              " sessions of this service (max-per-client)");
        client_slot_ = std::move(*slot);
    }
    if ((!s.acp.empty() || !s.exec.empty()) && launch::spawner_lost())
        return refuse(Status::proxy, "the privileged spawner is gone: no program can start");
    if (s.acp.empty())
        return true;

    auto child = start_program({s.acp}, HandlerRole::acp, -1);
    if (!child) {
        metrics::counters().acp_run(true);
        return refuse(Status::access, "acp " + s.acp + ": " + child.error().message);
    }
    const auto out = watch_session_program(*child, activity_, connect_deadline(s, activity_), 0, "acp", record_.id);
    metrics::counters().acp_run(out.kind != ChildEnd::Kind::exited || !WIFEXITED(out.wait_status) ||
                                WEXITSTATUS(out.wait_status) != 0);
    switch (out.kind) {
    case ChildEnd::Kind::stopped:
        return false;
    case ChildEnd::Kind::timed_out:
        return refuse(Status::access,
                      "acp " + s.acp + ": no answer within " + std::to_string(s.connect_timeout()) + " s");
    case ChildEnd::Kind::exited:
        break;
    }
    if (WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) == 0)
        return true;
    return refuse(Status::access, "acp " + s.acp + " denied: " + describe_wait_status(out.wait_status));
}

// exec: the program serves the connection itself; the session waits for it.
void Session::run_handler()
{
    const Service& s = *record_.service;
    record_.program = s.exec.front();
    // The handler gets the socket as its stdin/stdout and expects blocking I/O;
    // the flag lives in the open file description it shares with us.
    const int flags = ::fcntl(client_.get(), F_GETFL);
    if (flags >= 0)
        ::fcntl(client_.get(), F_SETFL, flags & ~O_NONBLOCK);

    auto child = start_program(s.exec, HandlerRole::exec, client_.get());
    if (!child) {
        end(Status::proxy, "handler " + s.exec.front() + ": " + child.error().message);
        return;
    }
    // No idle timeout: the handler owns the connection until it exits.
    const auto out = watch_session_program(*child, activity_, -1, handler_grace_ms, "handler", record_.id);
    if (!(WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) == 0))
        end(Status::proxy, "handler " + s.exec.front() + ": " + describe_wait_status(out.wait_status));
}

// A program of this session (acp, handler) as the section's user, with the
// session's variables; `in_out` its stdin and stdout (-1: /dev/null).
Result<Supervisor> Session::start_program(const std::vector<std::string>& argv, HandlerRole role, int in_out)
{
    const Service& s = *record_.service;
    auto vars = session_variables(record_, VariableStage::handler, main_pid_);
    Child::Spec spec{argv, build_environment(vars, s.var_prefix, config_->empty_env, environ), in_out, in_out};
    spec.handler = launch::handler_ref(*config_, &s, role, std::move(vars));
    return Supervisor::start(std::move(spec), s.user);
}

bool Session::connect(RedirectAction redirect)
{
    auto& r = record_;
    auto up = redirect == RedirectAction::original
                  ? connect_original(*r.service, *r.origdst, activity_)
                  : connect_upstream(*r.service, r.local.port, activity_, r.id, r.upstream_attempts);
    if (!up)
        return refuse(Status::connect, up.error().message);
    failures_ = up->failures;
    server_ = std::move(up->fd);
    r.server = up->server;
    r.server_name = std::move(up->server_name);
    r.outgoing = up->outgoing;
    reaper_.connected(r);
    return true;
}

// proxy-protocol v1|v2: the header naming client -> local to the fresh upstream.
bool Session::send_proxy_header()
{
    const auto& r = record_;
    if (!r.service->proxy_protocol)
        return true;
    const auto sent = send_all(server_.get(), proxy_protocol::encode(r.service->proxy_protocol, r.client, r.local),
                               activity_, connect_deadline(*r.service, activity_), "PROXY header");
    return sent || refuse(Status::server, sent.error().message);
}

// Traffic capture (reference §4.8) at BASE.PID.SESSIONID.log when the section
// has `writefile`/`debug`/`-w`. A file that cannot be opened is logged and the
// session runs uncaptured rather than not at all.
void Session::open_capture()
{
    const auto& r = record_;
    if (r.service->writefile.empty())
        return;
    const std::string path = capture_file_path(r.service->writefile, static_cast<pid_t>(main_pid_), r.id);
    try {
        capture_ = std::make_unique<CaptureWriter>(path);
        capture_->limit_file(r.service->writefile_limit);
    } catch (const std::exception& e) {
        log::error("session=" + std::to_string(r.id) + " capture: " + e.what() + "; session not captured", r.id);
    }
}

// --- Ending -----------------------------------------------------------------

bool Session::refuse(Status status, std::string reason)
{
    end(status, std::move(reason));
    return false;
}

void Session::on_relay_end(const RelayOutcome& out, bool to_server)
{
    using Kind = RelayOutcome::Kind;
    const std::string dir = to_server ? "client->server" : "server->client";
    switch (out.kind) {
    case Kind::eof:
    case Kind::stopped:
        return;
    case Kind::idle:
        end(Status::timeout, "idle for " + std::to_string(record_.service->timeout) + " s");
        return;
    case Kind::read_failed:
    case Kind::write_failed: {
        // The side that failed (the one read from, or the one written to)
        // names the status; the other side is reset too.
        const bool client_failed = (out.kind == Kind::read_failed) == to_server;
        const char* call = out.kind == Kind::read_failed ? "read" : "write";
        end(client_failed ? Status::client : Status::server,
            dir + (client_failed ? ": client: " : ": server: ") + errno_text(call, out.err), !client_failed,
            client_failed);
        return;
    }
    }
}

void Session::stop(Status status, const std::string& reason) { end(status, reason); }

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

// The thread-join protocol: a thread is woken by end() only while inside;
// the last one to leave finishes the session.
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
    close_capture(); // may wait for the disk: not part of the session's duration
    client_slot_.release();
    config_.reset();
    host_.finished(*this, std::move(record_));
}

// Writes out what is buffered, closes, and logs what was dropped or failed.
void Session::close_capture()
{
    if (!capture_)
        return;
    capture_->close();
    if (const auto dropped = capture_->dropped_bytes())
        log::warning("session=" + std::to_string(record_.id) + " capture " + capture_->name() + ": " +
                         std::to_string(dropped) +
                         " bytes not captured (the disk did not keep up, or writefile-limit was reached; DROP "
                         "records mark them)",
                     record_.id);
    if (const auto error = capture_->error(); !error.empty())
        log::error("session=" + std::to_string(record_.id) + " capture: " + error, record_.id);
    capture_.reset();
}

} // namespace tcpproxy
