// The process's counters (tcpproxy/metrics/counters.hpp).
#include "tcpproxy/metrics/counters.hpp"

#include <chrono>

namespace tcpproxy::metrics {

namespace {

double epoch_now()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

Counters::Counters() : last_reload_epoch_(epoch_now()) {}

Counters& counters()
{
    static Counters c;
    return c;
}

void Counters::session_started(std::uint16_t port, std::string_view service)
{
    std::lock_guard lock(mutex_);
    ++services_[{port, std::string(service)}].started;
    ++active_;
}

void Counters::session_ended(const SessionEnd& e)
{
    std::lock_guard lock(mutex_);
    auto& s = services_[{e.port, e.service}];
    ++s.ended[e.status];
    s.bytes_client += e.bytes_client;
    s.bytes_server += e.bytes_server;
    if (e.handler) {
        ++s.handler_runs;
        // The program's side failed: it could not be started, or broke the session.
        if (e.status == Status::server || e.status == Status::proxy)
            ++s.handler_failures;
    }
    if (e.started && active_ > 0)
        --active_;
}

void Counters::upstream_connect(std::string_view server, bool failed)
{
    std::lock_guard lock(mutex_);
    auto it = upstreams_.find(server);
    if (it == upstreams_.end())
        it = upstreams_.emplace(std::string(server), Snapshot::Upstream{}).first;
    ++it->second.attempts;
    if (failed)
        ++it->second.failures;
}

void Counters::acp_run(bool failed)
{
    acp_runs_.fetch_add(1, std::memory_order_relaxed);
    if (failed)
        acp_failures_.fetch_add(1, std::memory_order_relaxed);
}

PortCounters& Counters::port(std::uint16_t port)
{
    std::lock_guard lock(mutex_);
    return ports_.try_emplace(port).first->second;
}

void Counters::reload(bool ok)
{
    if (!ok) {
        reloads_refused_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    reloads_ok_.fetch_add(1, std::memory_order_relaxed);
    last_reload_epoch_.store(epoch_now(), std::memory_order_relaxed);
}

void Counters::slots(std::size_t n) { slots_.store(n, std::memory_order_relaxed); }

Snapshot Counters::snapshot() const
{
    Snapshot s;
    {
        std::lock_guard lock(mutex_);
        s.services = services_;
        s.upstreams.insert(upstreams_.begin(), upstreams_.end());
        for (const auto& [port, c] : ports_)
            s.ports[port] = Snapshot::Port{c.backoff_episodes.load(std::memory_order_relaxed),
                                           c.shed.load(std::memory_order_relaxed)};
        s.sessions_active = active_;
    }
    s.acp_runs = acp_runs_.load(std::memory_order_relaxed);
    s.acp_failures = acp_failures_.load(std::memory_order_relaxed);
    s.reloads_ok = reloads_ok_.load(std::memory_order_relaxed);
    s.reloads_refused = reloads_refused_.load(std::memory_order_relaxed);
    s.last_reload_epoch = last_reload_epoch_.load(std::memory_order_relaxed);
    s.slots = slots_.load(std::memory_order_relaxed);
    return s;
}

namespace {

// The sum over every service of what `of` takes from one.
template <typename F>
std::uint64_t sum(const Snapshot& s, F of)
{
    std::uint64_t n = 0;
    for (const auto& [key, service] : s.services)
        n += of(service);
    return n;
}

std::uint64_t ended(const Snapshot::Service& s, bool failed_only)
{
    std::uint64_t n = 0;
    for (const auto& [status, count] : s.ended)
        if (!failed_only || status != Status::ok)
            n += count;
    return n;
}

} // namespace

std::uint64_t Snapshot::sessions_started() const
{
    return sum(*this, [](const Service& s) { return s.started; });
}
std::uint64_t Snapshot::sessions_ended() const
{
    return sum(*this, [](const Service& s) { return ended(s, false); });
}
std::uint64_t Snapshot::sessions_failed() const
{
    return sum(*this, [](const Service& s) { return ended(s, true); });
}
std::uint64_t Snapshot::bytes_client() const
{
    return sum(*this, [](const Service& s) { return s.bytes_client; });
}
std::uint64_t Snapshot::bytes_server() const
{
    return sum(*this, [](const Service& s) { return s.bytes_server; });
}

} // namespace tcpproxy::metrics
