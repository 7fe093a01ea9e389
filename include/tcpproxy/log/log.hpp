#pragma once
// Logging (reference §7) through Boost.Log: syslog (facility daemon, ident =
// logname) and, with -d, stderr. Two exceptions, decided by guard_stderr():
// - stderr is the journal (JOURNAL_STREAM names its device and inode, as
//   systemd sets it): every line goes to the journal once, natively
//   (sd_journal_send), with its priority and the structured Fields; neither
//   syslog nor stderr gets a copy (journald would store each twice).
// - stderr is any other socket (inetd: the client's connection): nothing is
//   ever written to it, -d or not; descriptor 2 becomes /dev/null and
//   std::cerr goes to syslog, so diagnostics never reach a remote client.
//
// A message written with a session id also belongs to that session's logfile
// (§4.7) when the reaper keeps one: the message is then also kept here, in
// order, until the reaper takes it and writes it out on its own thread. So the
// thread that logs (a session's, with a small stack) never writes a file, and
// this room never calls back into the one above it.
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/gate.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy::log {

enum class Severity { debug, info, notice, warning, error };

const char* severity_name(Severity s);

struct Options {
    std::string ident = "tcpproxy";
    bool to_stderr = false;
    bool to_syslog = true;
    bool debug = false; // let debug-severity messages through
};

// Replaces the sinks (safe to call again, e.g. after a reload changes the ident).
void init(const Options& options);

// Looks once at what stderr is (first thing in main, before anything writes
// to it) and acts as described above. Idempotent.
enum class StderrKind { plain, journal, socket };
StderrKind guard_stderr();

// The structured values of a line, for the journal's TCPPROXY_* fields
// (empty or zero ones are left out); syslog and stderr get the text only.
struct Fields {
    std::uint64_t session = 0;
    std::uint16_t port = 0; // the listening port
    std::string client;     // address
    std::string server;     // address:port or program
    std::string status;     // status name (the manual's)
};

// `session` also keeps the line for the session's logfile (below) and is its
// TCPPROXY_SESSION; `fields` (may be null) adds the others.
void write(Severity severity, std::string_view message, std::uint64_t session = 0, const Fields* fields = nullptr);

inline void debug(std::string_view m, std::uint64_t s = 0) { write(Severity::debug, m, s); }
inline void info(std::string_view m, std::uint64_t s = 0) { write(Severity::info, m, s); }
inline void notice(std::string_view m, std::uint64_t s = 0) { write(Severity::notice, m, s); }
inline void warning(std::string_view m, std::uint64_t s = 0) { write(Severity::warning, m, s); }
inline void error(std::string_view m, std::uint64_t s = 0) { write(Severity::error, m, s); }

// One kept message of a session, as it was logged.
struct SessionLine {
    Severity severity = Severity::info;
    std::chrono::system_clock::time_point when;
    std::string text;
};

// From now on, what is written with `session`'s id (and passes the severity
// filter) is also kept for it, and `wake` is opened each time. Call before the
// session logs anything that belongs in its logfile.
void keep_session_lines(std::uint64_t session, Gate& wake);

// What was kept for `session` since the last call, oldest first; with `last`,
// nothing is kept for it any more. At most max_kept_bytes wait per session:
// beyond that, lines are counted and a line saying how many went missing
// takes their place.
std::vector<SessionLine> take_session_lines(std::uint64_t session, bool last = false);

// Everything kept since the last look, for every session that has some.
struct KeptLines {
    std::uint64_t session = 0;
    std::vector<SessionLine> lines;
};
std::vector<KeptLines> take_kept_lines();

inline constexpr std::size_t max_kept_bytes = 1024 * 1024;

} // namespace tcpproxy::log
