#include "listener_set.hpp"

#include "socket_activation.hpp"
#include "tcpproxy/log/log.hpp"

#include <stdexcept>

namespace tcpproxy {

namespace {

std::unique_ptr<Listener> bind_port(const PortConfig& p)
{
    try {
        return std::make_unique<Listener>(p.port, bind_plan(p));
    } catch (const std::system_error& e) {
        throw std::runtime_error("port " + std::to_string(p.port) + ": " + e.what());
    }
}

} // namespace

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
