#pragma once
// The values of configuration directives that need the system to check them
// (user and group names, /etc/services ports, interface names).
#include "tcpproxy/config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tcpproxy {

// `user` text -> ids (getpwnam/getgrnam); error text when unknown.
struct IdentityParse { std::optional<Identity> identity; std::string error; };
IdentityParse parse_identity(const std::string& text);

// `HOST[:PORT]`, `[v6]:PORT`, ports by number or /etc/services name.
struct UpstreamParse { std::optional<Upstream> upstream; std::string error; };
UpstreamParse parse_upstream(const std::string& text);

// A port by number (1-65535) or /etc/services name (tcp).
std::optional<std::uint16_t> parse_port(const std::string& text);

// An interface value: `*`, `any`, IPv4, IPv6 (with or without brackets), NIC name.
struct InterfaceParse { std::optional<InterfaceSpec> spec; std::string error; };
InterfaceParse parse_interface(const std::string& text);

} // namespace tcpproxy
