#pragma once
// The totals line of `tcpproxy --status`, from the same counters as the
// metrics: a running daemon is asked over its metrics listener (the status
// directory holds only status files, one per running session).
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/net/address.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace tcpproxy::metrics {

struct Totals {
    std::uint64_t sessions_started = 0, sessions_ended = 0, failed = 0;
    std::uint64_t bytes_client = 0, bytes_server = 0;
    double started = 0; // the last good configuration's load time
};

// Sums the families of an exposition (pure, unit tested).
Totals totals_of(std::string_view exposition);

// "totals: 12 sessions (11 ended, 1 not OK), ... bytes from clients, ..."
std::string describe(const Totals& t);

// GET /metrics from `where` (`*` asks loopback), within `timeout_ms`.
Result<std::string> fetch(const Endpoint& where, int timeout_ms);

} // namespace tcpproxy::metrics
