// Argument values shared by the config file and the command line, so that
// `-b`, `-u`, `server` and `interface` accept exactly the same forms.
#include "tcpproxy/config/values.hpp"

#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

namespace tcpproxy {

namespace {

template <typename Int>
std::optional<Int> parse_number(const std::string& text)
{
    Int v{};
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || p != end)
        return std::nullopt;
    return v;
}

bool is_nic_name(const std::string& text)
{
    // IFNAMSIZ is 16 with the terminating NUL.
    if (text.empty() || text.size() > 15)
        return false;
    for (char c : text)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return false;
    return true;
}

} // namespace

Result<std::uint16_t> parse_port(const std::string& text)
{
    const auto neither = [&] { return fail(text::quoted(text) + " is neither a port number nor a known TCP service"); };
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        if (text.find_first_not_of("0123456789") != std::string::npos)
            return neither();
        const auto n = parse_number<unsigned>(text);
        if (!n || *n < 1 || *n > 65535)
            return fail("port " + text + " is out of range (1-65535)");
        return static_cast<std::uint16_t>(*n);
    }
    if (text.empty())
        return neither();
    // getservbyname_r keeps this safe to call from several threads.
    servent result{};
    servent* found = nullptr;
    std::vector<char> buf(4096);
    if (getservbyname_r(text.c_str(), "tcp", &result, buf.data(), buf.size(), &found) != 0 || !found)
        return neither();
    return static_cast<std::uint16_t>(ntohs(static_cast<std::uint16_t>(found->s_port)));
}

Result<InterfaceSpec> parse_interface(const std::string& text)
{
    InterfaceSpec spec;
    spec.text = text;
    if (text == "*" || text == "any") {
        spec.kind = InterfaceSpec::Kind::any;
    } else if (text.find(':') != std::string::npos || (!text.empty() && text.front() == '[')) {
        std::string inner = text;
        if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']')
            inner = inner.substr(1, inner.size() - 2);
        const auto a = IpAddress::parse_v6(inner);
        if (!a) {
            return fail(text::quoted(text) + " is not a valid IPv6 address");
        }
        spec.kind = InterfaceSpec::Kind::address;
        spec.address = *a;
    } else if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        const auto a = IpAddress::parse_v4(text);
        if (!a) {
            return fail(text::quoted(text) + " is not a valid IPv4 address");
        }
        spec.kind = InterfaceSpec::Kind::address;
        spec.address = *a;
    } else if (is_nic_name(text)) {
        spec.kind = InterfaceSpec::Kind::nic;
        spec.name = text;
    } else {
        return fail(text::quoted(text) +
                    " is not an address or a network interface name (at most 15 characters, no '/' or blanks)");
    }
    return spec;
}

Result<Upstream> parse_upstream(const std::string& text)
{
    Upstream up;
    up.text = text;
    const auto parts = grammar::host_port(text);
    if (!parts)
        return std::unexpected(parts.error());
    const std::string host(parts->host);
    if (!parts->bracketed) {
        if (host.empty())
            return fail(text::quoted(text) + ": missing host");
        if (std::isdigit(static_cast<unsigned char>(host[0])) &&
            host.find_first_not_of("0123456789.") == std::string::npos && !IpAddress::parse_v4(host))
            return fail(text::quoted(host) + " is not a valid IPv4 address");
        for (char c : host)
            if (c == ' ' || c == '/' || text::is_control(static_cast<unsigned char>(c)))
                return fail(text::quoted(host) + " is not a valid host name");
    }
    if (parts->port) {
        const auto p = parse_port(std::string(*parts->port));
        if (!p)
            return std::unexpected(p.error());
        up.port = *p;
    }
    up.host = host;
    return up;
}

Result<Identity> parse_identity(const std::string& text)
{
    Identity id;
    id.text = text;
    auto sep = text.find('.');
    if (sep == std::string::npos)
        sep = text.find(':');
    const std::string user = text.substr(0, sep);
    const std::string group = sep == std::string::npos ? std::string() : text.substr(sep + 1);
    if (user.empty() && group.empty()) {
        return fail(text::quoted(text) + ": missing user name");
    }
    std::vector<char> buf(16384);
    if (!user.empty()) {
        if (const auto uid = parse_number<uid_t>(user)) {
            id.uid = *uid; // a numeric id sets the user id only
        } else {
            passwd pw{};
            passwd* found = nullptr;
            if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
                return fail("unknown user " + text::quoted(user));
            }
            id.uid = found->pw_uid;
            id.gid = found->pw_gid;
        }
    }
    if (!group.empty()) {
        if (const auto gid = parse_number<gid_t>(group)) {
            id.gid = *gid;
        } else {
            ::group gr{};
            ::group* found = nullptr;
            if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
                return fail("unknown group " + text::quoted(group));
            }
            id.gid = found->gr_gid;
        }
    } else if (sep != std::string::npos) {
        return fail(text::quoted(text) + ": missing group name after the separator");
    }
    return id;
}

std::string resolve_path(const std::string& path, const std::string& base)
{
    if (path.empty() || path.front() == '/')
        return path;
    return (std::filesystem::path(base) / path).lexically_normal().string();
}

std::string config_base_directory(const std::string& file)
{
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(file, ec);
    return (ec ? std::filesystem::path(file) : absolute).parent_path().string();
}

void resolve_config_paths(Config& config, const std::string& base)
{
    const auto resolve = [&](std::string& path) { path = resolve_path(path, base); };
    resolve(config.pidfile);
    resolve(config.statdir);
    resolve(config.session.dir);
    if (!config.session.exit_handler.empty())
        resolve(config.session.exit_handler.front());
    for (PortConfig& port : config.ports)
        for (Service& service : port.services) {
            resolve(service.writefile);
            resolve(service.acp);
            if (!service.exec.empty())
                resolve(service.exec.front());
        }
}

std::vector<std::string> program_problems(const Config& config)
{
    std::vector<std::string> problems;
    std::set<std::string> seen;
    const auto check = [&](const std::string& role, const std::string& program, int line) {
        if (program.empty() || !seen.insert(program).second)
            return;
        const std::string where = role + " program " + text::quoted(program) +
                                  (line > 0 ? " (line " + std::to_string(line) + ")" : std::string());
        struct stat st {};
        if (::stat(program.c_str(), &st) < 0)
            problems.push_back(where + ": " + std::strerror(errno));
        else if (!S_ISREG(st.st_mode))
            problems.push_back(where + ": not a regular file");
        else if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0 || ::access(program.c_str(), X_OK) < 0)
            problems.push_back(where + ": not executable");
    };
    for (const PortConfig& port : config.ports)
        for (const Service& service : port.services) {
            if (!service.exec.empty())
                check("exec", service.exec.front(), service.line);
            check("acp", service.acp, service.line);
        }
    if (!config.session.exit_handler.empty())
        check("exit-handler", config.session.exit_handler.front(), 0);
    return problems;
}

Result<Endpoint> parse_metrics_address(const std::string& text)
{
    const auto parts = grammar::host_port(text);
    if (!parts)
        return std::unexpected(parts.error());
    if (!parts->port || parts->host.empty())
        return fail("expected ADDRESS:PORT, got " + text::quoted(text));
    const std::string host = parts->bracketed ? "[" + std::string(parts->host) + "]" : std::string(parts->host);
    auto iface = parse_interface(host);
    if (!iface)
        return std::unexpected(iface.error());
    if (iface->kind == InterfaceSpec::Kind::nic)
        return fail(text::quoted(host) + " is a network interface name; the metrics listener needs an address");
    auto port = parse_port(std::string(*parts->port));
    if (!port)
        return std::unexpected(port.error());
    // `*`: every IPv4 and IPv6 address (a dual-stack socket on ::).
    const IpAddress ip = iface->kind == InterfaceSpec::Kind::any ? *IpAddress::parse_v6("::") : iface->address;
    return Endpoint{ip, *port};
}

} // namespace tcpproxy
