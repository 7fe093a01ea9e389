#pragma once
// The whole surface of the config language in one table (nginx/HAProxy
// style): each keyword with the level it may appear at, how many arguments
// it takes, its usage line, and the function that checks its arguments and
// stores the value. Reading directive_table.cpp tells what every directive
// accepts.
#include "layers.hpp"
#include "reporter.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/grammar/ast.hpp"

#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace tcpproxy::config {

enum class Scope {
    global_only, // before the first `port`
    service,     // global default, port level or interface section
    port,        // the `port` line itself
    interface,   // the `interface` line itself
};

// Values looked up in the system once per file: a large file names the same
// user in every section, and each lookup reads the user and group databases.
struct Lookups {
    std::map<std::string, Result<Identity>, std::less<>> users;
};

// What a directive's apply function works on.
struct DirectiveUse {
    Reporter& report;
    const ast::Directive& directive;
    GlobalLayer& global;   // for global-only directives
    ServiceLayer& service; // the level the directive belongs to
    Lookups& lookups;
};

inline constexpr std::size_t many = std::numeric_limits<std::size_t>::max();

struct DirectiveSpec {
    std::string_view keyword;
    Scope scope;
    std::size_t min_args;
    std::size_t max_args;
    std::string_view usage;        // e.g. "timeout SECONDS"
    void (*apply)(DirectiveUse&);  // null for `port` and `interface` (the walk handles them)
};

std::span<const DirectiveSpec> directive_table();
const DirectiveSpec* find_directive(std::string_view keyword);

} // namespace tcpproxy::config
