// The session start and end lines of reference §7.
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <cstdio>

namespace tcpproxy {

namespace {

// A value as one token: names from DNS or configs could hold anything.
std::string token(std::string_view v)
{
    std::string out;
    for (const char c : v)
        out += (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"') ? '_' : c;
    return out.empty() ? "-" : out;
}

std::string quoted(std::string_view v)
{
    std::string out = "\"";
    for (const char c : v)
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"') ? '\'' : c;
    return out + "\"";
}

std::string common(const SessionRecord& r, std::string_view event)
{
    std::string s = "session=" + std::to_string(r.id) + " event=" + std::string(event);
    s += " client=" + r.client.ip.unmapped().str();
    s += " clientname=" + token(r.client_name.empty() ? r.client.ip.unmapped().str() : r.client_name);
    if (r.service && r.service->extended_info)
        s += " clientport=" + std::to_string(r.client.port);
    s += " interface=" + Endpoint{r.local.ip.unmapped(), r.local.port}.str();
    if (r.service && !r.service->name.empty())
        s += " name=" + token(r.service->name);
    return s;
}

} // namespace

std::string session_start_line(const SessionRecord& r)
{
    std::string s = common(r, "start");
    if (r.service)
        s += " binding=" + token(r.service->interface.text) + ":" + std::to_string(r.local.port);
    return s;
}

std::string session_end_line(const SessionRecord& r)
{
    std::string s = common(r, "end");
    if (!r.program.empty())
        s += " program=" + token(r.program);
    else
        s += " server=" + (r.server ? Endpoint{r.server->ip.unmapped(), r.server->port}.str() : std::string("-"));
    if (r.service && r.service->extended_info && r.outgoing)
        s += " outgoing=" + Endpoint{r.outgoing->ip.unmapped(), r.outgoing->port}.str();
    s += " status=" + std::string(status_name(r.status));
    s += " code=" + std::to_string(status_code(r.status));
    s += " bytes_client=" + std::to_string(r.bytes_client);
    s += " bytes_server=" + std::to_string(r.bytes_server);
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f", r.duration_seconds());
    s += " duration=";
    s += dur;
    if (!r.reason.empty())
        s += " reason=" + quoted(r.reason);
    return s;
}

void SessionLogLines::started(const SessionRecord& r) { log::info(session_start_line(r), r.id); }

void SessionLogLines::ended(const SessionRecord& r)
{
    const auto line = session_end_line(r);
    if (r.status == Status::ok)
        log::info(line, r.id);
    else if (r.status == Status::proxy)
        log::error(line, r.id);
    else
        log::notice(line, r.id);
}

} // namespace tcpproxy
