#include "tcpproxy/process/environment.hpp"
#include "tcpproxy/core/text.hpp"

#include <algorithm>
#include <string_view>

namespace tcpproxy {

Variables session_variables(const SessionRecord& r, VariableStage stage, long pid)
{
    Variables v;
    const Service* s = r.service;
    const std::string iface = s ? s->interface.text : std::string("*");
    v.emplace_back("BINDING", (iface.empty() ? std::string("*") : iface) + ":" + std::to_string(r.local.port));
    v.emplace_back("CLIENT", r.client.ip.unmapped().str());
    v.emplace_back("CLIENTNAME", r.client_name.empty() ? r.client.ip.unmapped().str() : r.client_name);
    v.emplace_back("INTERFACE", r.local.ip.unmapped().str());
    v.emplace_back("LOGNAME", s ? s->logname : std::string("tcpproxy"));
    v.emplace_back("NAME", s ? s->name : std::string());
    v.emplace_back("PID", std::to_string(pid));
    v.emplace_back("PORT", std::to_string(r.local.port));
    v.emplace_back("PROGRAM", "tcpproxy");
    v.emplace_back("STARTED", std::to_string(r.started_epoch()));
    if (r.origdst) {
        v.emplace_back("ORIGDST_SERVER", r.origdst->ip.unmapped().str());
        v.emplace_back("ORIGDST_PORT", std::to_string(r.origdst->port));
    }
    if (r.server) {
        v.emplace_back("SERVER", r.server->ip.unmapped().str());
        v.emplace_back("SERVERNAME", r.server_name.empty() ? r.server->ip.unmapped().str() : r.server_name);
        v.emplace_back("SERVERPORT", std::to_string(r.server->port));
    }
    if (stage == VariableStage::end) {
        v.emplace_back("BYTES_CLIENT", std::to_string(r.bytes_client));
        v.emplace_back("BYTES_SERVER", std::to_string(r.bytes_server));
        v.emplace_back("DURATION", std::to_string(static_cast<long>(r.duration_seconds())));
        v.emplace_back("STATUS", std::string(status_name(r.status)));
        v.emplace_back("STATUSCODE", std::to_string(status_code(r.status)));
    }
    return v;
}

bool documented_variable(std::string_view name, VariableStage stage)
{
    static constexpr std::string_view always[] = {"BINDING", "CLIENT",       "CLIENTNAME",     "INTERFACE",  "LOGNAME",
                                                  "NAME",    "ORIGDST_PORT", "ORIGDST_SERVER", "PID",        "PORT",
                                                  "PROGRAM", "SERVER",       "SERVERNAME",     "SERVERPORT", "STARTED"};
    static constexpr std::string_view at_end[] = {"BYTES_CLIENT", "BYTES_SERVER", "DURATION", "STATUS", "STATUSCODE"};
    if (std::find(std::begin(always), std::end(always), name) != std::end(always))
        return true;
    return stage == VariableStage::end && std::find(std::begin(at_end), std::end(at_end), name) != std::end(at_end);
}

bool unsafe_variable(std::string_view name)
{
    // glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h), which ld.so
    // drops for set-id programs; there is no public interface to it.
    static constexpr std::string_view unsafe[] = {
        "GCONV_PATH", "GETCONF_DIR",      "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE",  "NIS_PATH",
        "NLSPATH",    "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR",      "TZDIR",   "MALLOC_CHECK_", "MALLOC_PERTURB_"};
    return name.starts_with("LD_") || name.starts_with("GLIBC_TUNABLES") ||
           std::find(std::begin(unsafe), std::end(unsafe), name) != std::end(unsafe);
}

std::vector<std::string> build_environment(const Variables& vars, const std::string& prefix, bool empty,
                                           const char* const* inherited)
{
    std::vector<std::string> env;
    std::vector<std::string> names;
    for (const auto& [name, value] : vars) {
        names.push_back(prefix + name);
        env.push_back(names.back() + "=" + text::clean(value));
    }
    auto replaced = [&](std::string_view entry) {
        const auto eq = entry.find('=');
        const auto name = entry.substr(0, eq);
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    std::string path;
    for (auto p = inherited; p && *p; ++p) {
        const std::string_view entry(*p);
        if (entry.starts_with("PATH="))
            path = entry;
        if (!empty && !replaced(entry))
            env.emplace_back(entry);
    }
    if (empty && !replaced("PATH"))
        env.push_back(path.empty() ? std::string("PATH=") + default_path : path);
    return env;
}

} // namespace tcpproxy
