#include "process_setup.hpp"

#include "tcpproxy/config/dispatch.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/net/socket.hpp"
#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/server/server.hpp"

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>

namespace tcpproxy {

void close_inherited_descriptors()
{
    // sd_listen_fds(0): how many systemd passed us, leaving LISTEN_* for
    // adopt_activated_sockets(). closefrom(3) (glibc: close_range(2), else
    // /proc/self/fd) closes the rest.
    const int passed = std::max(0, ::sd_listen_fds(0));
    ::closefrom(SD_LISTEN_FDS_START + passed);
}

void prepare_process_signals()
{
    ::signal(SIGPIPE, SIG_IGN);
    wake::install();
}

log::Options log_options(const Config& config, bool to_stderr)
{
    log::Options o;
    const auto with_services =
        std::find_if(config.ports.begin(), config.ports.end(), [](const PortConfig& p) { return !p.services.empty(); });
    if (with_services != config.ports.end())
        o.ident = with_services->services.front().logname;
    o.to_stderr = to_stderr;
    o.to_syslog = true;
    o.debug = config.debug;
    return o;
}

namespace {

void become_or_warn(const Credentials& c)
{
    if (c.uid == 0) {
        log::warning("user root: client data is handled as root");
        return;
    }
    become(c);
    log::info("handling connections as " + describe_ids());
}

} // namespace

std::unique_ptr<Spawner> drop_privileges_standalone(const CommandLine& cl, const Config& config,
                                                    const std::string& pidfile)
{
    if (::geteuid() != 0)
        return nullptr;
    const auto fallback = default_credentials();
    auto spawner = Spawner::start(cl, config, pidfile);
    launch::use_spawner(spawner->client(), fallback);
    const auto daemon = process_credentials(config, fallback);
    for (const auto& w : identity_warnings(config, daemon, fallback))
        log::warning(w);
    become_or_warn(daemon);
    return spawner;
}

void drop_privileges_inetd(const Config& config, int client)
{
    if (::geteuid() != 0)
        return;
    const auto fallback = default_credentials();
    Credentials c = fallback;
    try {
        const auto local = local_endpoint(client);
        if (const auto* port = find_port(config, local.port))
            if (const auto* s = match_service(*port, local.ip, interface_addresses))
                c = credentials_for(s->user, fallback);
    } catch (const std::system_error&) {
        // The client is gone already: the session reports it; drop to the default all the same.
    }
    become_or_warn(c);
}

} // namespace tcpproxy
