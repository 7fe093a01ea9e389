#pragma once
// The grammar's face to the rest of the program: text in, syntax tree and
// syntax errors out. Spirit's parser headers stay behind this header.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace tcpproxy::grammar {

struct ParsedFile {
    ast::File tree; // every line that parsed and is not blank, in its section
    // One error per line that did not parse, and the problems with the
    // arguments of lines that did (errors; a warning for ACL host bits).
    std::vector<Diagnostic> diagnostics;
    std::vector<std::size_t> positions; // the position cache as byte offsets, indexed by node ids

    std::size_t begin_of(const ast::x3::position_tagged& node) const { return positions.at(node.id_first); }
    std::size_t end_of(const ast::x3::position_tagged& node) const { return positions.at(node.id_last); }
};

// Parses every line of source.text(); `file` names it in diagnostics.
ParsedFile parse(const Source& source, const std::string& file);

} // namespace tcpproxy::grammar
