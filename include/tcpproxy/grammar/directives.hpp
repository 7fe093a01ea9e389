#pragma once
// Every keyword of the config language (reference §3.3) with the level it
// may stand at and its usage line. Each keyword's argument rule is in
// grammar/directives.cpp, in the same table; validation looks a keyword up
// here for its level and for "did you mean".
#include <span>
#include <string_view>

namespace tcpproxy::grammar {

enum class Level {
    global_only, // before the first `port`
    service,     // global default, port level or interface section
    port,        // the `port` line itself
    interface,   // the `interface` line itself
};

struct DirectiveInfo {
    std::string_view keyword;
    Level level;
    std::string_view usage; // e.g. "timeout SECONDS"
};

std::span<const DirectiveInfo> directives();
const DirectiveInfo* find_directive(std::string_view keyword);

} // namespace tcpproxy::grammar
