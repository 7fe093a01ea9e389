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
