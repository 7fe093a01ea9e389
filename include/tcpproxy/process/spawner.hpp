#pragma once
// Privilege separation for a daemon started as root (tcpproxy(1) SECURITY).
//
// Before the daemon gives up root it forks the spawner: a small
// single-threaded process that stays root, never reads or writes client data,
// and serves requests over a SOCK_SEQPACKET UNIX socket pair
// (spawn_protocol.hpp): it starts handler programs as their service's user
// (the client socket arrives as SCM_RIGHTS and is closed again as soon as the
// program has it), binds ports a reload adds, and removes the pidfile when the
// daemon ends. The daemon names only which service's program (exec handler,
// acp, exit handler) and the per-session variables; program, arguments,
// user and environment come from the spawner's own copy of the
// configuration (spawn_protocol.hpp), re-read on reload, never from the
// daemon; on reload
// it also hands the daemon the file's text, which the daemon may not be
// allowed to read itself, as a sealed in-memory file.
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config.hpp"

#include <sys/types.h>

#include <memory>
#include <string>

namespace tcpproxy {

// The daemon's side of the channel. Thread-safe: every request is one
// message with its own answer socket.
class SpawnerClient {
public:
    explicit SpawnerClient(Fd channel) : channel_(std::move(channel)) {}

    // Starts the service program spec.handler names, with spec's stdio; the
    // spawner takes program, arguments, environment and user from its own
    // configuration. Throws std::system_error with the spawner's reason
    // ("execve(/x): No such file...", "not allowed: ...").
    Child spawn(const Child::Spec& spec);
    // A listening socket bound by the spawner. Throws std::system_error.
    Fd listen(const Endpoint& where, bool v6only, int backlog);
    // The spawner re-reads the configuration file, adopts it if it is valid,
    // and hands over the bytes it read (or why it could not read them).
    // Throws std::system_error when the spawner does not answer properly.
    struct Reloaded {
        std::string text;
        std::uint32_t generation = 0; // the spawner's number for it; 0: it did not adopt it
    };
    Result<Reloaded> reload();
    // False once the spawner is gone (its end of the channel closed).
    bool alive() const;

    void close() { channel_.reset(); }

private:
    Fd channel_;
};

class Spawner {
public:
    // Forks the spawner (call it while the process has one thread). The
    // spawner's policy comes from `config`, re-read from cl.config_file on
    // reload; it removes `pidfile` (if not empty) at its end.
    static std::unique_ptr<Spawner> start(const CommandLine& cl, const Config& config, std::string pidfile);
    Spawner(const Spawner&) = delete;
    Spawner& operator=(const Spawner&) = delete;
    // Closes the channel and waits for the spawner to end (it kills the
    // programs still running and removes the pidfile first).
    ~Spawner();

    const std::shared_ptr<SpawnerClient>& client() const { return client_; }
    pid_t pid() const { return pid_; }

private:
    Spawner() = default;
    pid_t pid_ = -1;
    std::shared_ptr<SpawnerClient> client_;
};

} // namespace tcpproxy
