#include "server/listener_set.hpp"

#include "tcpproxy/log.hpp"

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
    for (const auto& p : config.ports)
        listeners_[p.port] = bind_port(p);
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
        if (it != listeners_.end() && it->second->plan() == bind_plan(p)) {
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
