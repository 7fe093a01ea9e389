#pragma once
// Pass 1 of validation: the grammar's section tree (ast::File) -> the
// settings of each level, checking each directive's place, arity and arguments.
#include "layers.hpp"
#include "reporter.hpp"
#include "tcpproxy/grammar/ast.hpp"

#include <vector>

namespace tcpproxy::config {

// A section holding a line the grammar rejected is marked incomplete.
ConfigTree build_tree(const ast::File& file, Reporter& report);

} // namespace tcpproxy::config
