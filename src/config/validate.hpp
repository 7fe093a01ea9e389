#pragma once
// The syntax tree -> the resolved Config, reporting every problem of
// reference §3.4 on the way. The result is only meaningful when no error was
// reported; parse_config (load.cpp) drops it otherwise.
#include "reporter.hpp"
#include "tree.hpp"
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/config/config.hpp"

#include <memory>
#include <string>

namespace tcpproxy::config {

// Fed the file's port sections one at a time as the grammar completes them
// (grammar::parse with a PortSink), so that neither the syntax tree nor the
// levels of a large file are ever held whole. The sections holding lines the
// grammar rejected are marked (ast::Section::broken), so that the absence
// of those lines is not reported as a second problem.
class Validation {
public:
    Validation(Reporter& report, const std::string& file_name);
    Validation(const Validation&) = delete; // (holds a pointer into itself)
    Validation& operator=(const Validation&) = delete;

    // Each port section in file order; `above` (its global section and
    // orphan sections) is the same complete one every time.
    void port(const ast::File& above, const ast::PortSection& section);
    // After the last port; `file` holds the levels above the ports.
    std::shared_ptr<Config> finish(const ast::File& file);

private:
    void above_ports(const ast::File& file);

    Reporter& report_;
    TreeBuilder levels_;
    std::shared_ptr<Config> config_;
    const ConfigTree* above_ = nullptr; // set by above_ports, before the first port
};

} // namespace tcpproxy::config
