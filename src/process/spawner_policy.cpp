#include "spawner_policy.hpp"

#include <algorithm>

namespace tcpproxy {

SpawnerPolicy spawner_policy(const Config& config, const Credentials& fallback)
{
    SpawnerPolicy p;
    p.identities = service_credentials(config, fallback);
    for (const auto& port : config.ports)
        p.ports.push_back(port.port);
    return p;
}

std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Spawn& request)
{
    const Credentials want{request.uid, request.gid};
    if (std::find(policy.identities.begin(), policy.identities.end(), want) == policy.identities.end())
        return "not allowed: uid " + std::to_string(request.uid) + " gid " + std::to_string(request.gid) +
               " is no service's user";
    return {};
}

std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Bind& request)
{
    if (std::find(policy.ports.begin(), policy.ports.end(), request.where.port) == policy.ports.end())
        return "not allowed: port " + std::to_string(request.where.port) + " is not configured";
    return {};
}

} // namespace tcpproxy
