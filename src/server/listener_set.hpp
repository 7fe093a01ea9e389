#pragma once
// The listeners of a configuration, one per port; a reload updates the set
// (ports added are bound, ports removed or rebound differently are closed).
#include "listener.hpp"

#include <map>
#include <memory>

namespace tcpproxy {

class ListenerSet {
public:
    // Binds every port of `config`; throws std::runtime_error (saying which port and call) on the first failure.
    void bind_all(const Config& config);
    void start_all(SessionPool& pool, ConfigHolder& holder, Reaper& reaper);
    // Reload: keeps the listeners whose binding is unchanged; failures to
    // bind a new port are logged and that port is skipped.
    void update(const Config& config, SessionPool& pool, ConfigHolder& holder, Reaper& reaper);
    void stop_all();
    std::size_t size() const { return listeners_.size(); }

private:
    std::map<std::uint16_t, std::unique_ptr<Listener>> listeners_;
};

} // namespace tcpproxy
