#pragma once
// The command line of reference §2, parsed into plain values. Nothing is
// resolved or checked against the system here beyond the form of each
// argument; apply_command_line() (settings.hpp) merges it into a Config.
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

struct CommandLine {
    enum class Action { run, check_config, status, decode, help, version };
    Action action = Action::run;

    std::optional<std::string> acp;                 // -a
    std::optional<std::string> bind;                // -b [IFACE:]PORT, as given
    bool debug = false;                             // -d
    bool empty_env = false;                         // -e
    std::string config_file = "/etc/tcpproxy.conf"; // -f
    bool config_file_given = false;
    std::optional<std::string> logname;                   // -l
    bool no_resolve = false;                              // -n
    std::optional<std::string> statdir;                   // -o
    std::optional<Endpoint> metrics;                      // --metrics ADDRESS:PORT
    std::optional<std::string> pidfile;                   // -p (/var/run/tcpproxy.pid) / -pp FILE
    std::optional<IpAddress> srcip;                       // -q
    std::optional<RedirectMode> redirect;                 // -r
    bool standalone = false;                              // -s (also implied by -b)
    std::optional<unsigned> timeout;                      // -t
    std::optional<std::string> user;                      // -u USER[.GROUP] / USER:GROUP, as given
    std::optional<std::string> var_prefix;                // -v
    std::optional<std::string> writefile;                 // -w
    bool extended_info = false;                           // -x
    Acl acl;                                              // -A, repeated
    std::optional<SessionMode> session_mode;              // -E MODE,...
    std::optional<std::string> session_dir;               // -E ...,DIR,... / -O DIR (later wins)
    std::optional<std::vector<std::string>> exit_handler; // -E ...,HANDLER
    std::optional<std::string> decode_file;               // --decode FILE
    std::optional<std::string> decode_client_out;         // --decode FILE --client-out F: raw client->server bytes
    std::optional<std::string> decode_server_out;         // --decode FILE --server-out F: raw server->client bytes
    std::optional<std::string> server;                    // SERVER operand (HOST[:PORT] or program)
    std::vector<std::string> server_args;                 // operands after a program SERVER
};

// The error is one line saying what is wrong (exit 2 with usage), starting
// with "tcpproxy: ".
Result<CommandLine> parse_command_line(int argc, const char* const argv[]);
const char* usage_line(); // "usage: tcpproxy [options] [SERVER]" ...
std::string help_text();

} // namespace tcpproxy
