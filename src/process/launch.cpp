#include "tcpproxy/process/launch.hpp"

#include "tcpproxy/log/log.hpp"
#include "tcpproxy/net/socket.hpp"

#include <atomic>

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
    (void)user; // without a spawner: our own identity; with one, the spawner's configuration says
    if (spawner)
        return spawner->spawn(spec);
    return Child::spawn(spec);
}

bool spawner_lost()
{
    static std::atomic<bool> reported{false};
    if (!spawner || spawner->alive())
        return false;
    if (!reported.exchange(true))
        log::error("spawner: gone; services with an exec handler or acp refuse new connections");
    return true;
}

std::optional<HandlerRef> handler_ref(const Config& config, const Service* service, HandlerRole role,
                                      Variables variables)
{
    std::uint32_t index = 0;
    for (const auto& port : config.ports) {
        const auto* first = port.services.data();
        if (service >= first && service < first + port.services.size())
            return HandlerRef{config.generation, index + static_cast<std::uint32_t>(service - first), role,
                              std::move(variables)};
        index += static_cast<std::uint32_t>(port.services.size());
    }
    return std::nullopt;
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
    std::uint32_t generation = 0;
    try {
        auto got = spawner->reload();
        if (got) {
            text = std::move(got->text);
            generation = got->generation;
        } else {
            text = std::unexpected(got.error());
        }
    } catch (const std::system_error& e) {
        text = fail(e.what());
    }
    auto loaded = load_config_text(text, file);
    if (loaded.config)
        loaded.config->generation = generation;
    return loaded;
}

} // namespace tcpproxy::launch
