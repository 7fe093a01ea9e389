#pragma once
// Pass 1 of validation: sorts the directives into their levels (global,
// port, interface section), checking each one's place, arity and arguments.
#include "layers.hpp"
#include "reporter.hpp"
#include "tcpproxy/grammar/ast.hpp"

#include <vector>

namespace tcpproxy::config {

// `broken_lines`: ascending numbers of the lines the grammar rejected; the
// level each falls in is marked incomplete.
ConfigTree build_tree(const ast::Directives& directives, const std::vector<int>& broken_lines, Reporter& report);

} // namespace tcpproxy::config
