// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "tcpproxy/metrics/exposition.hpp"

#include <cctype>
#include <cstdio>

namespace tcpproxy::metrics {

std::string escape_label(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string number(double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// One family: its HELP and TYPE lines, then its samples.
class Family {
public:
    Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
        : out_(out), name_(name)
    {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += escape_help(help);
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

    void sample(Labels labels, std::uint64_t v) { line(labels, std::to_string(v)); }
    void sample(Labels labels, double v) { line(labels, number(v)); }

private:
    void line(Labels labels, const std::string& value)
    {
        out_ += name_;
        if (labels.size()) {
            out_ += '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                if (!first)
                    out_ += ',';
                first = false;
                out_ += k;
                out_ += "=\"";
                out_ += escape_label(v);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

    std::string& out_;
    std::string_view name_;
};

} // namespace

std::string render(const Snapshot& s, std::string_view version)
{
    std::string out;
    {
        Family f(out, "tcpproxy_build_info", "gauge", "Always 1; the version of the running tcpproxy.");
        f.sample({{"version", version}}, std::uint64_t{1});
    }
    {
        Family f(out, "tcpproxy_sessions_started_total", "counter", "Sessions started, by port and service.");
        for (const auto& [key, v] : s.services)
            f.sample({{"port", std::to_string(key.first)}, {"service", key.second}}, v.started);
    }
    {
        Family f(out, "tcpproxy_sessions_total", "counter",
                 "Sessions ended, by port, service and status (the manual's status names, in lower case).");
        for (const auto& [key, v] : s.services) {
            const auto port = std::to_string(key.first);
            for (const auto& [status, n] : v.ended)
                f.sample({{"port", port}, {"service", key.second}, {"status", lower(status_name(status))}}, n);
        }
    }
    {
        Family f(out, "tcpproxy_sessions_active", "gauge", "Sessions started and not yet ended.");
        f.sample({}, s.sessions_active);
    }
    {
        Family f(out, "tcpproxy_session_slots", "gauge", "Session slots (max-sessions, as far as descriptors allow).");
        f.sample({}, s.slots);
    }
    {
        Family f(out, "tcpproxy_session_slots_in_use", "gauge", "Session slots serving a session.");
        f.sample({}, s.sessions_active);
    }
    {
        Family f(out, "tcpproxy_bytes_total", "counter",
                 "Bytes relayed by ended sessions, by port, service and direction (from the client, from the server).");
        for (const auto& [key, v] : s.services) {
            const auto port = std::to_string(key.first);
            f.sample({{"port", port}, {"service", key.second}, {"direction", "client_to_server"}}, v.bytes_client);
            f.sample({{"port", port}, {"service", key.second}, {"direction", "server_to_client"}}, v.bytes_server);
        }
    }
    {
        Family f(out, "tcpproxy_upstream_connects_total", "counter", "Upstream connection attempts, by server.");
        for (const auto& [server, v] : s.upstreams)
            f.sample({{"server", server}}, v.attempts);
    }
    {
        Family f(out, "tcpproxy_upstream_connect_failures_total", "counter",
                 "Upstream connection attempts that failed, by server.");
        for (const auto& [server, v] : s.upstreams)
            f.sample({{"server", server}}, v.failures);
    }
    {
        Family f(out, "tcpproxy_acp_runs_total", "counter", "Access control programs run.");
        f.sample({}, s.acp_runs);
    }
    {
        Family f(out, "tcpproxy_acp_failures_total", "counter",
                 "Access control programs that denied, failed, or did not answer in time.");
        f.sample({}, s.acp_failures);
    }
    {
        Family f(out, "tcpproxy_handler_runs_total", "counter",
                 "Request handler (exec) sessions, by port and service.");
        for (const auto& [key, v] : s.services)
            if (v.handler_runs)
                f.sample({{"port", std::to_string(key.first)}, {"service", key.second}}, v.handler_runs);
    }
    {
        Family f(out, "tcpproxy_handler_failures_total", "counter",
                 "Request handler sessions that ended with status server or proxy, by port and service.");
        for (const auto& [key, v] : s.services)
            if (v.handler_runs)
                f.sample({{"port", std::to_string(key.first)}, {"service", key.second}}, v.handler_failures);
    }
    {
        Family f(out, "tcpproxy_accept_backoff_episodes_total", "counter",
                 "Times a port's acceptor ran out of descriptors and backed off, by port.");
        for (const auto& [port, v] : s.ports)
            f.sample({{"port", std::to_string(port)}}, v.backoff_episodes);
    }
    {
        Family f(out, "tcpproxy_shed_connections_total", "counter",
                 "Connections turned away while out of descriptors, by port.");
        for (const auto& [port, v] : s.ports)
            f.sample({{"port", std::to_string(port)}}, v.shed);
    }
    {
        Family f(out, "tcpproxy_reloads_total", "counter", "Configuration reloads (SIGHUP), by result (ok, refused).");
        f.sample({{"result", "ok"}}, s.reloads_ok);
        f.sample({{"result", "refused"}}, s.reloads_refused);
    }
    {
        Family f(out, "tcpproxy_last_reload_success_timestamp_seconds", "gauge",
                 "When the running configuration was loaded (the start, until a reload succeeds), in Unix time.");
        f.sample({}, s.last_reload_epoch);
    }
    return out;
}

} // namespace tcpproxy::metrics
