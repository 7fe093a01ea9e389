#pragma once
// How the running proxy starts handler programs and binds ports, whoever it
// runs as: through the privileged spawner when one was started (the daemon
// began as root and gave it up), else directly with its own identity.
// Set up once before any thread starts; read-only afterwards.
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/process/spawner.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/core/fd.hpp"

#include <memory>
#include <optional>

namespace tcpproxy::launch {

// From now on programs and binds go through `spawner`; `fallback` fills the
// parts of a service's `user` it leaves open.
void use_spawner(std::shared_ptr<SpawnerClient> spawner, const Credentials& fallback);

// Starts spec as the service user `user`. Without a spawner the program gets
// our own identity (we are not root, or we already are that user). With
// one, only spec.handler and the stdio descriptors travel: the spawner takes
// program, arguments, environment and user from its configuration.
Child program(const Child::Spec& spec, const Identity& user);

// Which program of `service` (a section of `config`) with these variables,
// for Child::Spec::handler; nullopt when the service is not in `config`.
std::optional<HandlerRef> handler_ref(const Config& config, const Service* service, HandlerRole role,
                                      Variables variables);

// True once the spawner (there is one) has died: logged once. Programs can
// no longer start, so services that need one refuse connections.
bool spawner_lost();

// Starts spec with our own identity, spawner or not: for a program no service
// owns (the exit handler of a session that matched no service section).
Child own_program(const Child::Spec& spec);

// A bound socket for `where` (see bind_on); bound by the spawner when there is
// one (already listening then). Listener::start() makes it listen.
Fd listener(const Endpoint& where, bool v6only, int backlog);

// SIGHUP: the configuration file as it is now, parsed (diagnostics name
// `file`). With a spawner, the spawner (root) reads it, adopts it for what it
// allows, and hands us the bytes it read: we may not be allowed to read the
// file ourselves, and we must judge the same text it did. Without one,
// load_config_file reads it. Either way the file is read by
// read_config_text (config_load.hpp) and nowhere else.
LoadResult reload_config(const std::string& file);

} // namespace tcpproxy::launch
