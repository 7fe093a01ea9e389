#include "tcpproxy/process/launch.hpp"

#include "tcpproxy/net/socket.hpp"

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
    (void)backlog; // Listener::start() listens, once the session threads exist
    return bind_on(where, v6only);
}

LoadResult reload_config(const std::string& file)
{
    if (!spawner)
        return load_config_file(file);
    Result<std::string> text;
    try {
        text = spawner->reload();
    } catch (const std::system_error& e) {
        text = fail(e.what());
    }
    return load_config_text(text, file);
}

} // namespace tcpproxy::launch
