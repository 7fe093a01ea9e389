#pragma once
// Merging the command line into the configuration: the result is the one
// immutable Config the rest of the program reads.
#include "tcpproxy/cli/cli.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/error.hpp"

#include <memory>
#include <string>

namespace tcpproxy {

// The error is a command-line problem (exit 2), one line starting with "tcpproxy: ".
using SettingsResult = Result<std::shared_ptr<Config>>;

// -b mode (or inetd with a SERVER operand): builds a one-port, one-service
// Config from the command line alone. Without -b (inetd) the port is 0,
// meaning "the local port of the connection on stdin", and the interface `*`.
SettingsResult config_from_command_line(const CommandLine& cl);

// Config mode: overrides every service (and the globals) of `file_config`
// with what the command line sets.
SettingsResult apply_command_line(const CommandLine& cl, std::shared_ptr<Config> file_config);

// The paths of the command line (-a, -o, -p, -w, -O / -E's directory and
// handler, a program SERVER) made absolute against the current directory,
// once, as the command line is read: the daemon later works from `/`, a
// reload re-applies these (tcpproxy(1) FILES). -f stays as given.
CommandLine with_absolute_paths(CommandLine cl);

} // namespace tcpproxy
