#pragma once
// Status files (reference §4.6): one file per running session in `statdir`,
// LOGNAME.PID.SESSIONID, holding one line. Written atomically (temporary file
// created O_EXCL|O_NOFOLLOW in the same directory, then renamed over the
// name, which replaces a planted symlink instead of following it).
#include "tcpproxy/reaper.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace tcpproxy {

// The line for a session (pure; unit tested).
std::string status_line(const SessionRecord& r, long pid);

class StatusFiles : public SessionObserver {
public:
    explicit StatusFiles(long main_pid) : pid_(main_pid) {}
    void started(const SessionRecord& r) override;
    void connected(const SessionRecord& r) override;
    void ended(const SessionRecord& r) override;
    void shutdown() override;

private:
    void write(const SessionRecord& r);
    long pid_;
    std::map<std::uint64_t, std::string> files_; // session id -> path (reaper thread only)
};

} // namespace tcpproxy
