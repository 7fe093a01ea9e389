#include "tcpproxy/process/identity.hpp"

#include "tcpproxy/core/fd.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace tcpproxy {

namespace {

constexpr uid_t fallback_nobody = 65534;

std::optional<passwd> user_entry(uid_t uid, std::vector<char>& buf)
{
    passwd pw{};
    passwd* found = nullptr;
    buf.assign(16384, 0);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found)
        return std::nullopt;
    return pw;
}

} // namespace

Credentials default_credentials()
{
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwnam_r("nobody", &pw, buf.data(), buf.size(), &found) == 0 && found)
        return {found->pw_uid, found->pw_gid};
    return {fallback_nobody, static_cast<gid_t>(fallback_nobody)};
}

Credentials credentials_for(const Identity& identity, const Credentials& fallback)
{
    return {identity.uid.value_or(fallback.uid), identity.gid.value_or(fallback.gid)};
}

std::vector<Credentials> service_credentials(const Config& config, const Credentials& fallback)
{
    std::vector<Credentials> out;
    for (const auto& p : config.ports)
        for (const auto& s : p.services) {
            const auto c = credentials_for(s.user, fallback);
            if (std::find(out.begin(), out.end(), c) == out.end())
                out.push_back(c);
        }
    return out;
}

namespace {

std::optional<Credentials> named_user(const char* name)
{
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwnam_r(name, &pw, buf.data(), buf.size(), &found) == 0 && found)
        return Credentials{found->pw_uid, found->pw_gid};
    return std::nullopt;
}

} // namespace

Credentials data_path_default(const Credentials& fallback) { return named_user(daemon_user).value_or(fallback); }

Credentials process_credentials(const Config& config, const Credentials& fallback)
{
    // Only a user every section names itself is also the daemon's: by default
    // the handlers (nobody) and the daemon (tcpproxy) are apart.
    for (const auto& p : config.ports)
        for (const auto& s : p.services)
            if (!s.user.uid && !s.user.gid)
                return data_path_default(fallback);
    const auto all = service_credentials(config, fallback);
    return all.size() == 1 ? all.front() : data_path_default(fallback);
}

std::vector<std::string> identity_warnings(const Config& config, const Credentials& daemon, const Credentials& fallback)
{
    std::vector<std::string> out;
    if (!named_user(daemon_user) && daemon == fallback)
        out.push_back(std::string("no system user '") + daemon_user + "': client data is handled as uid " +
                      std::to_string(daemon.uid) + ", the handlers' default user");
    for (const auto& port : config.ports)
        for (const auto& s : port.services) {
            if (s.exec.empty() && s.acp.empty() && !(config.session.mode == SessionMode::process))
                continue;
            if (credentials_for(s.user, fallback) == daemon && (!s.writefile.empty() || config.session.active()))
                out.push_back("port " + std::to_string(port.port) + " (line " + std::to_string(s.line) + ")" +
                              ": its programs run as the daemon's own user (uid " + std::to_string(daemon.uid) +
                              ") while captures or session logs are on: they can read other sessions' files");
        }
    return out;
}

std::vector<gid_t> supplementary_groups(uid_t uid, gid_t gid)
{
    std::vector<char> buf;
    const auto pw = user_entry(uid, buf);
    if (!pw)
        return {gid};
    std::vector<gid_t> groups(64);
    for (;;) {
        int n = static_cast<int>(groups.size());
        if (::getgrouplist(pw->pw_name, gid, groups.data(), &n) >= 0) {
            groups.resize(static_cast<std::size_t>(n));
            return groups;
        }
        if (static_cast<std::size_t>(n) <= groups.size() || groups.size() > 65536)
            return {gid};
        groups.resize(static_cast<std::size_t>(n));
    }
}

void become(const Credentials& c)
{
    const auto groups = supplementary_groups(c.uid, c.gid);
    if (::setgroups(groups.size(), groups.data()) < 0)
        throw sys_error("setgroups");
    if (::setresgid(c.gid, c.gid, c.gid) < 0)
        throw sys_error("setresgid");
    if (::setresuid(c.uid, c.uid, c.uid) < 0)
        throw sys_error("setresuid");
    uid_t r, e, s;
    gid_t gr, ge, gs;
    if (::getresuid(&r, &e, &s) < 0 || ::getresgid(&gr, &ge, &gs) < 0)
        throw sys_error("getresuid");
    if (r != c.uid || e != c.uid || s != c.uid || gr != c.gid || ge != c.gid || gs != c.gid)
        throw sys_error("setresuid", EPERM);
    // Root gone for good: asking for it back must fail.
    if (c.uid != 0 && ::setuid(0) == 0)
        throw sys_error("setuid(0) succeeded after dropping root", EPERM);
}

std::string describe_ids()
{
    uid_t r = 0, e = 0, s = 0;
    gid_t gr = 0, ge = 0, gs = 0;
    ::getresuid(&r, &e, &s);
    ::getresgid(&gr, &ge, &gs);
    return "uid " + std::to_string(r) + "/" + std::to_string(e) + "/" + std::to_string(s) + ", gid " +
           std::to_string(gr) + "/" + std::to_string(ge) + "/" + std::to_string(gs);
}

} // namespace tcpproxy
