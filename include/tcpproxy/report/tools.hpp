#pragma once
// The operator's tools that read what a running proxy writes:
// `tcpproxy --status [-o DIR]` (status files, §4.6) and
// `tcpproxy --decode FILE` (traffic captures, §4.8). Both return the exit status.
#include "tcpproxy/report/status_file.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tcpproxy {

// Prints the sessions in `dir` as an aligned table on `out`: one header line,
// then one row per session, oldest first. A file that is not a status file
// (malformed line, name not LOGNAME.PID.SESSIONID, or name and line disagree)
// is skipped with one warning line on `err`. 0, or 1 when `dir` cannot be read.
int status_command(const std::string& dir, std::ostream& out, std::ostream& err);

// One table row: a parsed line plus the SESSIONID from its file name.
struct StatusRow {
    StatusLine line;
    std::string session;
    bool gone = false; // its process has ended: a stale file, marked "(gone)"
};

// The table itself, pure: `now` (seconds since 1970) gives the AGE column,
// STARTED is shown in local time.
std::string render_status_table(std::vector<StatusRow> rows, std::int64_t now);

// "45s", "12m03s", "3h04m", "2d05h": how long ago `started` was.
std::string format_age(std::int64_t seconds);

// Prints every record of the capture `file` readably on `out` (time,
// direction, length, then a hexdump -C style dump) and, when asked, writes
// each direction's bytes concatenated to client_out (client->server) and
// server_out (server->client). A malformed or truncated file: what could be
// read is printed, then an error naming the byte offset on `err`, exit 1.
int decode_command(const std::string& file, const std::optional<std::string>& client_out,
                   const std::optional<std::string>& server_out, std::ostream& out, std::ostream& err);

} // namespace tcpproxy
