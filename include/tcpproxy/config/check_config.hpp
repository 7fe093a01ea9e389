#pragma once
// `tcpproxy --check-config`: validate, print every diagnostic (§3.4) on `err`
// and a one-line summary on `out` when valid. Never binds, forks or writes.
#include <ostream>
#include <string>

namespace tcpproxy {

// Returns the exit status: 0 valid (warnings allowed), 1 invalid.
int check_config(const std::string& file, std::ostream& out, std::ostream& err, bool colour);

} // namespace tcpproxy
