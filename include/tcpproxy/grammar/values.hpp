#pragma once
// The vocabulary of values: every argument form that the config file and the
// command line share, each one X3 rule (grammar/config_grammar_def.hpp,
// instantiated once in grammar/config_grammar.cpp). This header is the
// non-Spirit face of those rules, so src/config/ and src/cli/ parse `timeout
// 30` and `-t 30` with the same code and word a bad value the same way.
//
// A failure's message completes the caller's sentence: the config file puts
// it after FILE:LINE:COL, the command line after "option -t: ". User text in
// it is text::quoted().
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/status.hpp"
#include "tcpproxy/net/address.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy {

enum class RedirectMode : std::uint8_t { none, accept, forward, forward_only };
enum class SessionMode : std::uint8_t { none, keep, process };

} // namespace tcpproxy

namespace tcpproxy::grammar {

// `timeout` / -t: seconds 0..31536000 (one year); 0 = no idle timeout.
inline constexpr unsigned max_timeout = 31536000;
Result<unsigned> seconds(std::string_view text);

// `max-sessions`: 1..100000.
inline constexpr unsigned max_max_sessions = 100000;
Result<unsigned> max_sessions(std::string_view text);

// `max-per-client`: 1..100000 sessions of one client (IPv6: one /64) in one service.
Result<unsigned> max_per_client(std::string_view text);

// `writefile-limit`: 1..2^50 bytes.
Result<std::uint64_t> byte_count(std::string_view text);
// session-keep-limit's COUNT and BYTES: 0 (no limit) or a number up to 2^50.
Result<std::uint64_t> keep_limit(std::string_view text);

// `proxy-header-timeout`: 1..31536000 seconds.
Result<unsigned> proxy_header_seconds(std::string_view text);

// `standalone`, `extended-info`, `accept-proxy`: yes or no, lower case.
Result<bool> yes_no(std::string_view text);

// `redirect-mode` / -r: none, accept, forward, forward-only (= only).
Result<RedirectMode> redirect_mode(std::string_view text);

// `session-mode` / -E MODE: none, keep, process.
Result<SessionMode> session_mode(std::string_view text);

// `proxy-protocol`: v1 or v2 -> 1 or 2.
Result<int> proxy_protocol(std::string_view text);

// `setenv` / -v: a prefix that keeps variable names valid, [A-Za-z_][A-Za-z0-9_]*.
Result<std::string> var_prefix(std::string_view text);

// `logname` / -l: the syslog name, also part of status and session file
// names: not empty, no blanks, control characters or '/'.
Result<std::string> logname(std::string_view text);

// `srcip`, `rotate` / -q: an IPv4 or IPv6 address, the latter also in brackets.
Result<IpAddress> ip_address(std::string_view text);

// `server` HOST[:PORT] and -b [IFACE:]PORT, split: the host (an IPv6 address
// in brackets, which are taken off and which it needs when a port may
// follow) and the text after its ':'. The parts are checked by the caller
// (config/values.hpp), which knows whether the host is a name or a NIC.
struct HostPort {
    std::string_view host;
    bool bracketed = false;
    std::optional<std::string_view> port;
};
Result<HostPort> host_port(std::string_view text);

// `exec`, `acp`, `exit-handler`: a program the daemon runs, an absolute path
// (the daemon's working directory is not the administrator's).
Result<std::string> program(std::string_view text);

// The SERVER operand: a program (a path, starting with '/' or '.') rather
// than HOST[:PORT].
bool is_program(std::string_view server);

// A comma separated list (`acl`, `exit-code` / -A): the items of one word,
// blanks around each trimmed ("a, b" is two items). An empty item ("a,,b",
// a final ',') is kept with empty text, for the caller to report or join.
struct ListItem {
    std::string_view text;
    std::size_t offset = 0; // of the item's first byte in the word
};
std::vector<ListItem> list_items(std::string_view word);

// One ACL item, [+|-]ADDR[/PREFIX|/DOTTED-MASK]. host_bits: ADDR had bits
// beyond the mask (they are cleared; the config file warns).
struct AclEntry {
    AclItem item;
    bool host_bits = false;
};
Result<AclEntry> acl_item(std::string_view text);

// One `exit-code` item: a status name (any case) or "any" (every status).
Result<StatusSet> exit_code(std::string_view text);

} // namespace tcpproxy::grammar
