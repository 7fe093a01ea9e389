#pragma once
// Pass 1 of validation: sorts the directives into their levels (global,
// port, interface section), checking each one's place, arity and arguments.
#include "config/layers.hpp"
#include "config/reporter.hpp"
#include "grammar/ast.hpp"

namespace tcpproxy::config {

ConfigTree build_tree(const ast::Directives& directives, Reporter& report);

} // namespace tcpproxy::config
