#pragma once
// The values of configuration directives that need the system to check them
// (user and group names, /etc/services ports) or that build the Config's own
// types (interfaces, upstreams). Shared by the config file and the command
// line (-b, -u, SERVER); the values that need neither are grammar's
// (tcpproxy/grammar/values.hpp). A failure's message completes the caller's
// sentence, as there.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tcpproxy {

// `user` / -u USER[.GROUP] (or USER:GROUP) -> ids (getpwnam_r/getgrnam_r).
Result<Identity> parse_identity(const std::string& text);

// `server` / SERVER: `HOST[:PORT]`, `[v6]:PORT`, ports by number or /etc/services name.
Result<Upstream> parse_upstream(const std::string& text);

// `port` / -b: a port by number (1-65535) or /etc/services name (tcp).
Result<std::uint16_t> parse_port(const std::string& text);

// `interface` / -b: `*`, `any`, IPv4, IPv6 (with or without brackets), NIC name.
Result<InterfaceSpec> parse_interface(const std::string& text);

// Path-valued settings (tcpproxy.conf(5) FILES): a relative `path` is taken
// relative to `base`, lexically (no symlink is followed), once, when the
// setting is read; absolute and empty paths are returned as they are.
std::string resolve_path(const std::string& path, const std::string& base);
// The directory a config file's relative paths are resolved against: the
// directory of `file` (itself taken from the current directory).
std::string config_base_directory(const std::string& file);
// Every path of `config` (pidfile, statdir, session-dir, writefile, the
// programs of exec, acp and exit-handler) resolved against `base`.
void resolve_config_paths(Config& config, const std::string& base);

// Programs (exec, acp, exit-handler) that do not exist or cannot be executed
// now, one sentence each ("exec program /x (line 4): No such file or
// directory"). Not errors: a program may legitimately appear later.
std::vector<std::string> program_problems(const Config& config);

// `metrics` / --metrics ADDRESS:PORT: an interface address as for `interface`
// (IPv4, [IPv6], or `*`/`any` for every address; not a NIC name) and a port.
Result<Endpoint> parse_metrics_address(const std::string& text);

} // namespace tcpproxy
