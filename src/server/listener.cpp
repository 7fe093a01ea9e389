#include "listener.hpp"

#include "socket_activation.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/net/socket.hpp"
#include "tcpproxy/process/launch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>

namespace tcpproxy {

namespace {

constexpr int backlog = 4096; // the kernel caps it at net.core.somaxconn

// Errors accept() reports for one connection (aborted, or a network error
// pending on it): skip it and carry on.
bool transient(int err)
{
    switch (err) {
    case EAGAIN:
    case ECONNABORTED:
    case EINTR:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM: // a firewall rule refused it
        return true;
    default:
        return false;
    }
}

bool out_of_resources(int err) { return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM; }

IpAddress any_address(bool v6) { return *IpAddress::parse(v6 ? "::" : "0.0.0.0"); }

std::vector<Fd> bind_sockets(std::uint16_t port, const BindPlan& plan)
{
    std::vector<Fd> out;
    if (!plan.wildcard) {
        for (const auto& a : plan.addresses)
            out.push_back(launch::listener(Endpoint{a, port}, true, backlog));
        return out;
    }
    // One dual-stack socket where the system allows it ...
    try {
        out.push_back(launch::listener(Endpoint{any_address(true), port}, false, backlog));
        return out;
    } catch (const std::system_error&) {
    }
    // ... else IPv4 and, if there is IPv6 at all, a v6-only socket beside it.
    out.push_back(launch::listener(Endpoint{any_address(false), port}, false, backlog));
    try {
        out.push_back(launch::listener(Endpoint{any_address(true), port}, true, backlog));
    } catch (const std::system_error& e) {
        log::warning("port " + std::to_string(port) + ": IPv6 not available (" + e.what() + "); IPv4 only");
    }
    return out;
}

std::unique_ptr<Listener> bind_port(const PortConfig& p)
{
    try {
        return std::make_unique<Listener>(p.port, bind_plan(p));
    } catch (const std::system_error& e) {
        throw std::runtime_error("port " + std::to_string(p.port) + ": " + e.what());
    }
}

} // namespace

BindPlan bind_plan(const PortConfig& port)
{
    BindPlan plan;
    plan.wildcard = port.services.empty();
    for (const auto& s : port.services) {
        if (s.interface.kind != InterfaceSpec::Kind::address) {
            plan.wildcard = true;
            break;
        }
        const IpAddress a = s.interface.address.unmapped();
        if (std::find(plan.addresses.begin(), plan.addresses.end(), a) == plan.addresses.end())
            plan.addresses.push_back(a);
    }
    if (plan.wildcard)
        plan.addresses.clear();
    return plan;
}

Listener::Listener(std::uint16_t port, BindPlan plan) : Listener(port, plan, bind_sockets(port, plan))
{
    inherited_ = false;
}

Listener::Listener(std::uint16_t port, BindPlan plan, std::vector<Fd> sockets)
    : port_(port), plan_(std::move(plan)), sockets_(std::move(sockets)), inherited_(true)
{
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    // Accepted sockets inherit TCP_NODELAY from the listening one (Linux):
    // set once here, not once per connection.
    for (const auto& s : sockets_)
        set_nodelay(s.get());
}

Listener::~Listener() { stop(); }

void Listener::start(SessionPool& pool, ConfigHolder& config, Reaper& reaper)
{
    // Sockets are bound at start-up before the session pool exists; only now
    // may clients be told the port is open. listen() on a listening socket
    // (from the spawner or systemd) just keeps it listening.
    for (const auto& s : sockets_)
        if (::listen(s.get(), backlog) < 0)
            throw sys_error("listen");
    pool_ = &pool;
    accepting_.store(true);
    boost::thread::attributes attrs;
    attrs.set_stack_size(256 * 1024);
    thread_ = boost::thread(attrs, [this, &pool, &config, &reaper] { run(pool, config, reaper); });
}

void Listener::stop()
{
    stopping_.store(true);
    if (thread_.joinable()) {
        // The acceptor waits in wake::poll() or for a free slot: both are woken.
        wake::wake(thread_.native_handle());
        pool_->wake_waiters();
        thread_.join();
    }
    sockets_.clear();
}

void Listener::run(SessionPool& pool, ConfigHolder& config, Reaper& reaper)
{
    std::vector<pollfd> fds;
    for (const auto& s : sockets_)
        fds.push_back({s.get(), POLLIN, 0});
    const auto nsock = fds.size();
    struct Leaving {
        std::atomic<bool>& flag;
        ~Leaving() { flag.store(false); }
    } leaving{accepting_};
    auto& counted = metrics::counters().port(port_);
    bool shortage = false; // inside an episode of running out of descriptors
    AcceptBackoff backoff;

    while (!stopping_.load()) {
        if (backoff.wait_ms() > 0) {
            // Out of descriptors: the pending connection is still readable, so
            // polling the socket now would spin. Wait (for stop() only) first.
            wake::poll(nullptr, 0, backoff.wait_ms());
            if (stopping_.load())
                break;
        }
        if (wake::poll(fds.data(), fds.size(), -1) < 0)
            continue; // woken by stop() (EINTR): the loop condition ends it
        bool failed = false;
        for (std::size_t i = 0; i < nsock && !failed; ++i) {
            if (!(fds[i].revents & POLLIN))
                continue;
            auto* slot = pool.reserve(stopping_);
            if (!slot)
                break;
            sockaddr_storage peer{};
            socklen_t len = sizeof peer;
            const int fd = ::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                if (shortage) {
                    log::notice("port " + std::to_string(port_) + ": accepting connections again");
                    shortage = false;
                }
                backoff.succeeded();
                pool.launch(slot, SessionStart{Fd(fd), config.get(), reaper.next_session_id(),
                                               Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&peer))});
                continue;
            }
            const int err = errno;
            pool.unreserve(slot);
            if (transient(err))
                continue;
            if (!shortage) {
                // Once per episode, not once per attempt.
                log::error("port " + std::to_string(port_) + ": " + errno_text("accept4", err) +
                           (out_of_resources(err) ? "; turning connections away until descriptors are free" : ""));
                shortage = true;
                counted.backoff_episodes.fetch_add(1, std::memory_order_relaxed);
            }
            if (out_of_resources(err) && shed(fds[i].fd, config, reaper))
                counted.shed.fetch_add(1, std::memory_order_relaxed);
            backoff.failed();
            failed = true;
        }
    }
}

bool Listener::shed(int sock, ConfigHolder& config, Reaper& reaper)
{
    // The spare descriptor makes room to take the pending connection and
    // close it: the client learns at once instead of hanging in the backlog
    // while we cannot serve it.
    if (!spare_)
        return false;
    spare_.reset();
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    Fd fd(::accept4(sock, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    const bool turned_away = static_cast<bool>(fd);
    if (fd) {
        SessionRecord r;
        r.id = reaper.next_session_id();
        r.status = Status::proxy;
        r.reason = "out of descriptors";
        r.config = config.get();
        r.client = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&peer));
        r.client_name = r.client.ip.unmapped().str();
        try {
            r.local = local_endpoint(fd.get());
        } catch (const std::system_error&) {
        }
        r.started = std::chrono::system_clock::now();
        r.started_steady = std::chrono::steady_clock::now();
        fd.reset();
        reaper.submit(std::move(r));
    }
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    return turned_away;
}

// --- The set of listeners ----------------------------------------------------

void ListenerSet::bind_all(const Config& config)
{
    // Sockets passed by systemd serve the ports they are bound to, whatever
    // the interface lines say (the socket unit chose the addresses); the
    // sections still match each connection by its local address.
    auto activated = take_activated_listeners();
    for (const auto& p : config.ports) {
        std::vector<Fd> mine;
        std::string where;
        for (auto& a : activated) {
            if (a.fd && a.port == p.port) {
                mine.push_back(std::move(a.fd));
                where += (where.empty() ? "" : ", ") + a.address;
            }
        }
        if (mine.empty()) {
            listeners_[p.port] = bind_port(p);
            continue;
        }
        listeners_[p.port] = std::make_unique<Listener>(p.port, bind_plan(p), std::move(mine));
        log::notice("port " + std::to_string(p.port) + ": using the socket(s) passed by systemd (" + where + ")");
    }
    for (auto& a : activated)
        if (a.fd)
            log::warning("socket activation: " + a.address + " matches no configured port; closed");
}

void ListenerSet::start_all(SessionPool& pool, ConfigHolder& holder, Reaper& reaper)
{
    for (auto& [port, l] : listeners_)
        l->start(pool, holder, reaper);
}

void ListenerSet::update(const Config& config, SessionPool& pool, ConfigHolder& holder, Reaper& reaper)
{
    std::map<std::uint16_t, std::unique_ptr<Listener>> next;
    for (const auto& p : config.ports) {
        auto it = listeners_.find(p.port);
        // A socket from systemd cannot be bound again by us: it stays while its port does.
        if (it != listeners_.end() && (it->second->inherited() || it->second->plan() == bind_plan(p))) {
            next[p.port] = std::move(it->second);
            listeners_.erase(it);
        }
    }
    // Close what goes (or is bound differently) before binding what comes:
    // the same port may be in both.
    for (auto& [port, l] : listeners_) {
        l->stop();
        log::notice("port " + std::to_string(port) + ": closed");
    }
    listeners_.clear();
    for (const auto& p : config.ports) {
        if (next.count(p.port))
            continue;
        try {
            auto l = bind_port(p);
            l->start(pool, holder, reaper);
            next[p.port] = std::move(l);
            log::notice("port " + std::to_string(p.port) + ": listening");
        } catch (const std::exception& e) {
            log::error(e.what());
        }
    }
    listeners_ = std::move(next);
}

void ListenerSet::stop_all()
{
    for (auto& [port, l] : listeners_)
        l->stop();
    listeners_.clear();
}

} // namespace tcpproxy
