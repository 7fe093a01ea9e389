#pragma once
// Sections are matched in file order (reference §4.2), so a section that an
// earlier one of the same port always matches first can never be used.
#include "layers.hpp"
#include "reporter.hpp"

namespace tcpproxy::config {

void warn_shadowed_sections(const PortBlock& port, Reporter& report);

} // namespace tcpproxy::config
