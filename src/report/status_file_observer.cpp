#include "tcpproxy/report/status_file_observer.hpp"

#include "tcpproxy/log/log.hpp"

namespace tcpproxy {

StatusLine status_line_of(const SessionRecord& r, long pid)
{
    StatusLine l;
    l.logname = r.service ? r.service->logname : std::string("tcpproxy");
    l.pid = static_cast<pid_t>(pid);
    l.started = r.started_epoch();
    l.interface = Endpoint{r.local.ip.unmapped(), r.local.port};
    l.client = r.client.ip.unmapped();
    l.client_name = r.client_name;
    if (r.server)
        l.server = Endpoint{r.server->ip.unmapped(), r.server->port};
    if (r.origdst)
        l.origdst = Endpoint{r.origdst->ip.unmapped(), r.origdst->port};
    return l;
}

void StatusFiles::started(const SessionRecord& r)
{
    if (!r.config || r.config->statdir.empty())
        return;
    // Throws (logged by the reaper) when the file cannot be written: the
    // session goes on without one.
    files_.emplace(r.id, std::make_unique<StatusFile>(r.config->statdir, r.id, status_line_of(r, pid_)));
}

void StatusFiles::connected(const SessionRecord& r)
{
    const auto it = files_.find(r.id);
    if (it != files_.end() && r.server)
        it->second->update_server(Endpoint{r.server->ip.unmapped(), r.server->port});
}

void StatusFiles::ended(const SessionRecord& r)
{
    const auto it = files_.find(r.id);
    if (it == files_.end())
        return;
    const auto error = it->second->remove();
    files_.erase(it);
    if (!error.empty())
        log::error("status file: " + error, r.id);
}

void StatusFiles::shutdown()
{
    for (auto& [id, file] : files_)
        if (const auto error = file->remove(); !error.empty())
            log::error("status file: " + error, id);
    files_.clear();
}

void clean_stale_status_files(const std::string& statdir)
{
    if (statdir.empty())
        return;
    const auto result = remove_stale_status_files(statdir);
    for (const auto& name : result.removed)
        log::notice("status directory " + statdir + ": removed " + name + " (its process is gone)");
    for (const auto& error : result.errors)
        log::warning("status directory: " + error);
}

} // namespace tcpproxy
