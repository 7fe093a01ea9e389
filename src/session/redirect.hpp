#pragma once
// What a session does with a redirected connection (reference §4.4).
#include "tcpproxy/config/config.hpp"

#include <optional>
#include <string>

namespace tcpproxy {

enum class RedirectAction {
    configured,      // the configured server or handler
    original,        // connect to the original destination (forward, forward-only)
    refuse_direct,   // forward-only and not redirected: ACCESS
    refuse_loop,     // the original destination is one of our own listeners: ACCESS
};

// Pure: `redirected` says the connection has an original destination other
// than its local address; `loops` that this destination is ours.
RedirectAction redirect_action(RedirectMode mode, bool redirected, bool exec, bool loops);

// Whether `to` is an address tcpproxy itself listens on under `config`: a
// configured port whose sections match the address, which is this host's.
bool is_own_listener(const Config& config, const Endpoint& to);

} // namespace tcpproxy
