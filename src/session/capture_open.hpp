#pragma once
// Traffic capture (reference §4.8) for one session: the CaptureWriter at
// BASE.PID.SESSIONID.log when its section has `writefile`/`debug`/`-w`.
#include "tcpproxy/report/capture.hpp"
#include "tcpproxy/config/session_record.hpp"

#include <memory>

namespace tcpproxy {

// Null when the section captures nothing, or (logged) when the file cannot
// be opened: the session then runs uncaptured rather than not at all.
std::unique_ptr<CaptureWriter> open_capture(const SessionRecord& r, long main_pid);

// Writes out what is buffered, closes, and logs what was dropped or failed.
void close_capture(std::unique_ptr<CaptureWriter>& capture, std::uint64_t session_id);

} // namespace tcpproxy
