#include "report/status_files.hpp"

#include "tcpproxy/fd.hpp"
#include "tcpproxy/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace tcpproxy {

namespace {

bool clean_field(const std::string& v)
{
    if (v.empty())
        return false;
    for (const char c : v)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return false;
    return true;
}

std::string logname_of(const SessionRecord& r) { return r.service ? r.service->logname : std::string("tcpproxy"); }

std::string path_of(const SessionRecord& r, long pid)
{
    return r.config->statdir + "/" + logname_of(r) + "." + std::to_string(pid) + "." + std::to_string(r.id);
}

} // namespace

std::string status_line(const SessionRecord& r, long pid)
{
    const std::string client_ip = r.client.ip.unmapped().str();
    const std::string logname = clean_field(logname_of(r)) ? logname_of(r) : std::string("tcpproxy");
    std::string line = "tcpproxy " + logname + " " + std::to_string(pid) + " " + std::to_string(r.started_epoch());
    line += " " + Endpoint{r.local.ip.unmapped(), r.local.port}.str();
    line += " " + client_ip;
    line += " " + (clean_field(r.client_name) ? r.client_name : client_ip);
    line += " " + (r.server ? Endpoint{r.server->ip.unmapped(), r.server->port}.str() : std::string("-"));
    line += " " + (r.origdst ? Endpoint{r.origdst->ip.unmapped(), r.origdst->port}.str() : std::string("-"));
    return line + "\n";
}

void StatusFiles::write(const SessionRecord& r)
{
    if (!r.config || r.config->statdir.empty())
        return;
    const std::string path = path_of(r, pid_);
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str()); // a leftover (or planted) temporary name: removing it never follows a link
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) {
        log::error("status file: " + log::syscall_failed("open(" + tmp + ")", errno), r.id);
        return;
    }
    ::fchmod(fd.get(), 0644); // whatever the umask says: readers (tcpproxy --status) are other users
    const std::string line = status_line(r, pid_);
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        log::error("status file: " + log::syscall_failed("write(" + tmp + ")", errno), r.id);
        ::unlink(tmp.c_str());
        return;
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        log::error("status file: " + log::syscall_failed("rename(" + path + ")", errno), r.id);
        ::unlink(tmp.c_str());
        return;
    }
    files_[r.id] = path;
}

void StatusFiles::started(const SessionRecord& r) { write(r); }

void StatusFiles::connected(const SessionRecord& r) { write(r); }

void StatusFiles::ended(const SessionRecord& r)
{
    auto it = files_.find(r.id);
    if (it == files_.end())
        return;
    ::unlink(it->second.c_str());
    files_.erase(it);
}

void StatusFiles::shutdown()
{
    for (const auto& [id, path] : files_)
        ::unlink(path.c_str());
    files_.clear();
}

} // namespace tcpproxy
