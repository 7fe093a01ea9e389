#pragma once
// Status files (reference §4.6): one file per running session in `statdir`,
// named LOGNAME.PID.SESSIONID, holding one line
//   tcpproxy LOGNAME PID STARTED IFACE_IP:PORT CLIENT_IP CLIENT_NAME SERVER_IP:PORT ORIGDST
// The line format is defined here once: format_status_line() writes it and
// parse_status_line() reads it back (for `tcpproxy --status`).
#include "tcpproxy/net/address.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy {

// What a status line says about one session.
struct StatusLine {
    std::string logname;
    pid_t pid = 0;            // the main process's
    std::int64_t started = 0; // seconds since 1970
    Endpoint interface;       // local address and port the client reached
    IpAddress client;
    std::string client_name;         // written as the client IP when it is not a clean field
    std::optional<Endpoint> server;  // unset: not connected yet, or an exec session
    std::optional<Endpoint> origdst; // unset: not a redirected connection
    friend bool operator==(const StatusLine&, const StatusLine&) = default;
};

// The 9 space-separated fields and a newline. Fields never hold blanks or
// control characters: a bad client name becomes the client IP, a bad byte in
// the logname becomes '_'.
std::string format_status_line(const StatusLine& line);

// Parses one line (with or without its newline). On failure says why.
Result<StatusLine> parse_status_line(std::string_view text);

// LOGNAME.PID.SESSIONID, split from the right so that a logname with dots
// still parses. Temporary files (leading '.') are not status file names.
struct StatusFileName {
    std::string logname;
    pid_t pid = 0;
    std::string session;
};
std::optional<StatusFileName> parse_status_file_name(std::string_view name);
std::string status_file_name(const std::string& logname, pid_t pid, std::uint64_t session_id);

// The file of one running session. The constructor writes it, update_server()
// rewrites it once the upstream is connected, the destructor (or remove())
// deletes it. Every write goes to a temporary file in the same directory
// (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644 whatever the umask) that is renamed
// over the final name, so a reader sees the old line or the new one, never a
// part, and a symlink planted at either name is replaced, not followed.
// Errors throw std::system_error naming the call and the path.
class StatusFile {
public:
    StatusFile(std::string dir, std::uint64_t session_id, StatusLine line);
    ~StatusFile();
    StatusFile(const StatusFile&) = delete;
    StatusFile& operator=(const StatusFile&) = delete;

    void update_server(const Endpoint& server);
    // Deletes the file; idempotent. Returns the error text (empty when fine)
    // because it is also called where nothing may throw.
    std::string remove() noexcept;
    const std::string& path() const { return path_; }

private:
    void write_locked();

    std::mutex mutex_;
    std::string dir_;
    std::string path_;
    std::string temp_path_;
    StatusLine line_;
    bool present_ = false;
};

// The status directory, opened without following a link
// (O_DIRECTORY|O_NOFOLLOW), owned by us or root and not writable by everyone
// unless sticky; else why not.
Result<Fd> open_status_directory(const std::string& dir);

// Removes the status files (and left-over temporary files) in `dir` whose PID
// is not a running process: what an earlier instance left when it crashed.
// With `logname`, only that logname's files are touched. Files whose name is
// not a status file name, that are not regular files or that belong to
// another user are left alone. Run it as the user that writes the files.
struct StaleCleanup {
    std::vector<std::string> removed; // file names
    std::vector<std::string> errors;  // "unlink(PATH): TEXT", "opendir(DIR): TEXT"
};
StaleCleanup remove_stale_status_files(const std::string& dir,
                                       const std::optional<std::string>& logname = std::nullopt);

} // namespace tcpproxy
