#pragma once
// What the privileged spawner agrees to do: start programs only as an
// identity some service of the configuration has, and bind only the ports the
// configuration lists. The daemon that asks has given up root and may be
// under a client's control; these checks are what keeps it from asking for
// root (an identity only an explicit `user root` puts in the list) or for a
// port it has no business with. Pure: unit tested.
#include "tcpproxy/process/identity.hpp"
#include "spawn_protocol.hpp"
#include "tcpproxy/config/config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tcpproxy {

struct SpawnerPolicy {
    std::vector<Credentials> identities;
    std::vector<std::uint16_t> ports;
};

SpawnerPolicy spawner_policy(const Config& config, const Credentials& fallback);

// Empty when allowed, else why not (for the Failed answer and the log).
std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Spawn& request);
std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Bind& request);

} // namespace tcpproxy
