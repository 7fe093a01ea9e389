#pragma once
// Merging the command line into the configuration: the result is the one
// immutable Config the rest of the program reads.
#include "tcpproxy/cli.hpp"
#include "tcpproxy/config.hpp"
#include "tcpproxy/diagnostic.hpp"

#include <memory>
#include <string>

namespace tcpproxy {

struct SettingsResult {
    std::shared_ptr<Config> config; // null on error
    std::string error;              // a command-line problem: exit 2
};

// -b mode (or inetd with a SERVER operand): builds a one-port, one-service
// Config from the command line alone. Without -b (inetd) the port is 0,
// meaning "the local port of the connection on stdin", and the interface `*`.
SettingsResult config_from_command_line(const CommandLine& cl);

// Config mode: overrides every service (and the globals) of `file_config`
// with what the command line sets.
SettingsResult apply_command_line(const CommandLine& cl, std::shared_ptr<Config> file_config);

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
