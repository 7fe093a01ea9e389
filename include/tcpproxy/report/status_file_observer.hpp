#pragma once
// Status files (reference §4.6) as a reaper observer: a StatusFile per running
// session, written when it starts, rewritten when its server is connected,
// removed when it ends and, for any left, at shutdown. The file format and the
// atomic writing live in StatusFile (tcpproxy/status_file.hpp), used here.
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/report/status_file.hpp"

#include <cstdint>
#include <map>
#include <memory>

namespace tcpproxy {

// What a session's status line says, from its record (pure; unit tested).
StatusLine status_line_of(const SessionRecord& r, long pid);

class StatusFiles : public SessionObserver {
public:
    explicit StatusFiles(long main_pid) : pid_(main_pid) {}
    void started(const SessionRecord& r) override;
    void connected(const SessionRecord& r) override;
    void ended(const SessionRecord& r) override;
    void shutdown() override;

private:
    long pid_;
    std::map<std::uint64_t, std::unique_ptr<StatusFile>> files_; // reaper thread only
};

// Daemon start: removes what crashed earlier instances left in `statdir`
// (files whose PID is not running) and logs what it did.
void clean_stale_status_files(const std::string& statdir);

} // namespace tcpproxy
