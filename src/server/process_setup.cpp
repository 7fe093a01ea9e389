#include "server/process_setup.hpp"

#include "session/wake.hpp"

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
    for (const auto& p : config.ports)
        for (const auto& s : p.services) {
            o.ident = s.logname;
            goto found;
        }
found:
    o.to_stderr = to_stderr;
    o.to_syslog = true;
    o.debug = config.debug;
    return o;
}

} // namespace tcpproxy
