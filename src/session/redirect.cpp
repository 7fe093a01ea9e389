#include "redirect.hpp"

#include "tcpproxy/net/original_destination.hpp"
#include "tcpproxy/config/dispatch.hpp"
#include "tcpproxy/net/socket.hpp"

namespace tcpproxy {

RedirectAction redirect_action(RedirectMode mode, bool redirected, bool exec, bool loops)
{
    if (mode == RedirectMode::none)
        return RedirectAction::configured;
    if (redirected && loops)
        return RedirectAction::refuse_loop;
    if (mode == RedirectMode::forward_only && !redirected)
        return RedirectAction::refuse_direct;
    if (redirected && !exec && (mode == RedirectMode::forward || mode == RedirectMode::forward_only))
        return RedirectAction::original;
    return RedirectAction::configured;
}

bool is_own_listener(const Config& config, const Endpoint& to)
{
    for (const auto& p : config.ports) {
        if (p.port != to.port)
            continue;
        return match_service(p, to.ip, interface_addresses) != nullptr && is_local_address(to.ip);
    }
    return false;
}

} // namespace tcpproxy
