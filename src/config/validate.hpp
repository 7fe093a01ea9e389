#pragma once
// The syntax tree -> the resolved Config, reporting every problem of
// reference §3.4 on the way. The result is only meaningful when no error was
// reported; parse_config (load.cpp) drops it otherwise.
#include "reporter.hpp"
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/config/config.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tcpproxy::config {

// The sections holding lines the grammar rejected are marked (ast::Section::
// broken), so that the absence of those lines is not reported as a second problem.
std::shared_ptr<Config> validate(const ast::File& file, Reporter& report, const std::string& file_name);

} // namespace tcpproxy::config
