#include "process_setup.hpp"

#include <algorithm>

#include "tcpproxy/core/wake.hpp"

#include <signal.h>

namespace tcpproxy {

void prepare_process_signals()
{
    ::signal(SIGPIPE, SIG_IGN);
    wake::install();
}

log::Options log_options(const Config& config, bool to_stderr)
{
    log::Options o;
    const auto with_services = std::find_if(config.ports.begin(), config.ports.end(),
                                            [](const PortConfig& p) { return !p.services.empty(); });
    if (with_services != config.ports.end())
        o.ident = with_services->services.front().logname;
    o.to_stderr = to_stderr;
    o.to_syslog = true;
    o.debug = config.debug;
    return o;
}

} // namespace tcpproxy
