#pragma once
// Pass 1 of validation: the grammar's section tree (ast::File) -> the
// settings of each level, checking each directive's place, arity and
// arguments. The levels above the ports first, then one port block at a
// time: validation resolves a block into its services before the next one
// takes its place, so a file of many ports never holds all their levels at
// once (each level is a ServiceLayer of about 1 KB).
#include "directive_table.hpp"
#include "layers.hpp"
#include "reporter.hpp"
#include "tcpproxy/grammar/ast.hpp"

#include <cstdint>
#include <map>

namespace tcpproxy::config {

// A section holding a line the grammar rejected is marked incomplete.
class TreeBuilder {
public:
    explicit TreeBuilder(Reporter& report) : report_(report) {}

    // The global section, and the orphan interface sections (reported,
    // checked and dropped). Global-only directives are only taken here, so
    // the global level is whole once this returns.
    const ConfigTree& above_ports(const ast::File& file);
    // One port section of the same file, in file order (a repeated port
    // number is reported against the first). The block is valid until the
    // next call.
    const PortBlock& port(const ast::PortSection& port);

private:
    void section(const ast::Section& s, ServiceLayer& layer, bool global);
    void directive(const ast::Directive& d, ServiceLayer& layer, bool global);
    void open_port(const ast::Directive& d);
    SectionBlock open_section(const ast::Directive& d);

    Reporter& report_;
    Lookups lookups_;
    ConfigTree tree_;
    PortBlock block_;
    std::map<std::uint16_t, int> seen_ports_; // port -> the line of its block (the section may be gone)
};

} // namespace tcpproxy::config
