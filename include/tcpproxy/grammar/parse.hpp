#pragma once
// The grammar's face to the rest of the program: text in, syntax tree and
// syntax errors out. Spirit's parser headers stay behind this header.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace tcpproxy::grammar {

struct ParsedFile {
    ast::File tree; // every line that parsed and is not blank, in its section
    // One error per line that did not parse, and the problems with the
    // arguments of lines that did (errors; a warning for ACL host bits).
    std::vector<Diagnostic> diagnostics;

    // A node's byte offsets in the text (the grammar keeps them in the node's ids).
    std::size_t begin_of(const ast::x3::position_tagged& node) const { return offset(node.id_first); }
    std::size_t end_of(const ast::x3::position_tagged& node) const { return offset(node.id_last); }

private:
    static std::size_t offset(int id)
    {
        if (id < 0) // a node the grammar did not make
            throw std::out_of_range("no source position");
        return static_cast<std::size_t>(id);
    }
};

// Parses every line of source.text(); `file` names it in diagnostics.
ParsedFile parse(const Source& source, const std::string& file);

} // namespace tcpproxy::grammar
