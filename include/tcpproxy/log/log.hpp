#pragma once
// Logging (reference §7) through Boost.Log: syslog (facility daemon, ident =
// logname) and, with -d, stderr. Messages that belong to a session carry its
// id as the "Session" attribute so that per-session sinks can pick them out.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tcpproxy::log {

enum class Severity { debug, info, notice, warning, error };

struct Options {
    std::string ident = "tcpproxy";
    bool to_stderr = false;
    bool to_syslog = true;
    bool debug = false;   // let debug-severity messages through
};

// Replaces the sinks (safe to call again, e.g. after a reload changes the ident).
void init(const Options& options);

void write(Severity severity, std::string_view message, std::uint64_t session = 0);

inline void debug(std::string_view m, std::uint64_t s = 0) { write(Severity::debug, m, s); }
inline void info(std::string_view m, std::uint64_t s = 0) { write(Severity::info, m, s); }
inline void notice(std::string_view m, std::uint64_t s = 0) { write(Severity::notice, m, s); }
inline void warning(std::string_view m, std::uint64_t s = 0) { write(Severity::warning, m, s); }
inline void error(std::string_view m, std::uint64_t s = 0) { write(Severity::error, m, s); }

// A second destination for every message that belongs to a session (one
// written with a session id), e.g. that session's logfile: called on the
// logging thread, after the severity filter, with the message text. Survives
// init(); an empty function removes it.
using SessionTap = std::function<void(std::uint64_t session, Severity severity, std::string_view message)>;
void set_session_tap(SessionTap tap);

// "CALL: errno text", how every failed system call is reported.
std::string syscall_failed(std::string_view call, int err);

} // namespace tcpproxy::log
