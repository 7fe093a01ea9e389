#pragma once
// Session handling (reference §3.3) is all or nothing: session-dir,
// session-mode, exit-code and, for `process`, exit-handler.
#include "layers.hpp"
#include "reporter.hpp"

namespace tcpproxy::config {

// The resolved session handling; reports a partial set at its first directive.
SessionHandling check_session(const GlobalLayer& global, Reporter& report);

} // namespace tcpproxy::config
