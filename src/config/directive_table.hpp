#pragma once
// What each directive does with its value: the function that stores it in
// its level (directive_table.cpp), one per keyword of the grammar except
// `port` and `interface` (the tree walk opens those levels). The keywords'
// levels, usage lines and argument rules are the grammar's
// (tcpproxy/grammar/directives.hpp).
#include "layers.hpp"
#include "reporter.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/grammar/ast.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace tcpproxy::config {

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

struct DirectiveApply {
    std::string_view keyword;
    void (*apply)(DirectiveUse&);
};

std::span<const DirectiveApply> directive_table();
const DirectiveApply* find_apply(std::string_view keyword);

} // namespace tcpproxy::config
