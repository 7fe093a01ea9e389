#include "process/launch.hpp"

#include "tcpproxy/log.hpp"
#include "tcpproxy/socket.hpp"

namespace tcpproxy::launch {

namespace {

std::shared_ptr<SpawnerClient> spawner;
Credentials fallback_ids;

} // namespace

void use_spawner(std::shared_ptr<SpawnerClient> s, const Credentials& fallback)
{
    spawner = std::move(s);
    fallback_ids = fallback;
}

bool through_spawner() { return spawner != nullptr; }

Child program(const Child::Spec& spec, const Identity& user)
{
    if (spawner)
        return spawner->spawn(spec, credentials_for(user, fallback_ids));
    return Child::spawn(spec);
}

Child own_program(const Child::Spec& spec) { return Child::spawn(spec); }

Fd listener(const Endpoint& where, bool v6only, int backlog)
{
    if (spawner)
        return spawner->listen(where, v6only, backlog);
    return listen_on(where, v6only, backlog);
}

void reload()
{
    if (!spawner)
        return;
    try {
        spawner->reload();
    } catch (const std::exception& e) {
        log::error(std::string("reload: ") + e.what());
    }
}

} // namespace tcpproxy::launch
