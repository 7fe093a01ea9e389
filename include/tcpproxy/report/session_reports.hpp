#pragma once
// The reaper's observers, in the order that matters: session logfiles are
// opened before the start line is logged and finished after the end line is.
#include "tcpproxy/report/reaper.hpp"

namespace tcpproxy {

// `threaded`: exit handlers on their own threads (daemon); otherwise on the
// reaper's caller (inetd: one session, then exit). Installs the log's session
// tap; call before the first session.
void add_session_reports(Reaper& reaper, long main_pid, bool threaded);

} // namespace tcpproxy
