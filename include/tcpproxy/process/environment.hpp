#pragma once
// The variables of reference §5 and the environment a handler program gets.
// Pure functions: no system calls, so they are unit tested directly.
#include "tcpproxy/config/session_record.hpp"

#include <cstdint>
#include <string>
#include <string_view>
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

// Whether NAME is one of the §5 variables a program may get at `stage`
// (without prefix). The spawner accepts no other name from the daemon.
bool documented_variable(std::string_view name, VariableStage stage);

// Whether an environment variable NAME changes how the dynamic loader or
// libc behave for a program (LD_*, GCONV_PATH, ... as glibc's list of
// variables it drops for set-id programs): never given to a program the
// spawner starts, whoever asks.
bool unsafe_variable(std::string_view name);

// Which of a service's programs: what the daemon names when it asks the
// spawner, which takes program, arguments and user from its own configuration.
enum class HandlerRole : std::uint8_t { exec = 1, acp = 2, exit_handler = 3 };

// What a program is, for the spawner: the configuration generation the
// session runs under, the service's position in it (ports and their
// sections in file order, counted from 0), the role and the per-session
// variables (names without prefix).
struct HandlerRef {
    std::uint32_t generation = 0;
    std::uint32_t service = 0;
    HandlerRole role = HandlerRole::exec;
    Variables variables;
    friend bool operator==(const HandlerRef&, const HandlerRef&) = default;
};

// The stage of the variables `role` gets.
inline VariableStage stage_of(HandlerRole role)
{
    return role == HandlerRole::exit_handler ? VariableStage::end : VariableStage::handler;
}

} // namespace tcpproxy
