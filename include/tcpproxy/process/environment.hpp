#pragma once
// The variables of reference §5 and the environment a handler program gets.
// Pure functions: no system calls, so they are unit tested directly.
#include "tcpproxy/config/session_record.hpp"

#include <string>
#include <utility>
#include <vector>

namespace tcpproxy {

using Variables = std::vector<std::pair<std::string, std::string>>; // names without prefix

enum class VariableStage {
    handler, // exec handlers and acp: what is known when the connection is accepted
    end,     // exit handlers: everything, including bytes, duration and status
};

// The §5 variables known at `stage`. `pid` is the proxy's main process id.
Variables session_variables(const SessionRecord& r, VariableStage stage, long pid);

// NAME=VALUE strings for execve: the variables under `prefix` and then,
// unless `empty`, the inherited environment without entries the variables
// replace; with `empty`, only PATH is kept (the inherited one, else a default).
// Control characters in values become '?' (text::clean).
std::vector<std::string> build_environment(const Variables& vars, const std::string& prefix, bool empty,
                                           const char* const* inherited);

inline constexpr const char* default_path = "/usr/local/bin:/usr/bin:/bin";

} // namespace tcpproxy
