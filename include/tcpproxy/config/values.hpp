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

namespace tcpproxy {

// `user` / -u USER[.GROUP] (or USER:GROUP) -> ids (getpwnam_r/getgrnam_r).
Result<Identity> parse_identity(const std::string& text);

// `server` / SERVER: `HOST[:PORT]`, `[v6]:PORT`, ports by number or /etc/services name.
Result<Upstream> parse_upstream(const std::string& text);

// `port` / -b: a port by number (1-65535) or /etc/services name (tcp).
Result<std::uint16_t> parse_port(const std::string& text);

// `interface` / -b: `*`, `any`, IPv4, IPv6 (with or without brackets), NIC name.
Result<InterfaceSpec> parse_interface(const std::string& text);

// `metrics` / --metrics ADDRESS:PORT: an interface address as for `interface`
// (IPv4, [IPv6], or `*`/`any` for every address; not a NIC name) and a port.
Result<Endpoint> parse_metrics_address(const std::string& text);

} // namespace tcpproxy
