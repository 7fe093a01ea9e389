#pragma once
// Parsers for the values of single command-line options. Each returns the
// value or an error phrase that completes "option -X: ..." (no prefix), so
// the caller decides how the one-line message starts.
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/net/address.hpp"
#include "tcpproxy/config/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy::cli {

template <typename T>
struct Parsed {
    std::optional<T> value;
    std::string error; // set when value is empty
};

// User input shown inside an error line: double-quoted, with anything that
// could break the line (control characters, quotes, backslashes) escaped.
std::string quoted(std::string_view text);

// Idle timeout: a decimal number 0..31536000 (one year).
inline constexpr unsigned max_timeout = 31536000;
Parsed<unsigned> parse_seconds(std::string_view text);

// none / accept / forward / forward-only / only.
Parsed<RedirectMode> parse_redirect_mode(std::string_view text);

// An IPv4 address or an IPv6 address, the latter with or without brackets.
Parsed<IpAddress> parse_ip(std::string_view text);

// One -A argument: ACL items separated by commas (blanks after a comma allowed).
Parsed<Acl> parse_acl_list(std::string_view text);

// -E MODE[,DIR[,HANDLER]]: the three settings of session-mode, session-dir
// and exit-handler in one word. keep needs DIR; process needs DIR and HANDLER
// (one program, run without arguments); none (off) needs neither. An empty
// DIR or HANDLER leaves that setting alone.
struct SessionOption {
    SessionMode mode = SessionMode::none;
    std::string dir;
    std::string handler;
};
Parsed<SessionOption> parse_session_option(std::string_view text);

// -v: a prefix that keeps variable names valid: [A-Za-z_][A-Za-z0-9_]*.
bool valid_var_prefix(std::string_view text);

// -l: the syslog name, also part of status and session file names.
bool valid_logname(std::string_view text);

} // namespace tcpproxy::cli
