#pragma once
// The grammar's face to the rest of the program: text in, syntax tree and
// syntax errors out. Spirit's parser headers stay behind this header.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tcpproxy::grammar {

// A node's byte offsets in the text: the grammar keeps them in the node's ids.
inline std::size_t begin_of(const ast::x3::position_tagged& node)
{
    if (node.id_first < 0) // a node the grammar did not make
        throw std::out_of_range("no source position");
    return static_cast<std::size_t>(node.id_first);
}
inline std::size_t end_of(const ast::x3::position_tagged& node)
{
    if (node.id_last < 0)
        throw std::out_of_range("no source position");
    return static_cast<std::size_t>(node.id_last);
}

struct ParsedFile {
    ast::File tree; // every line that parsed and is not blank, in its section
    // One error per line that did not parse, and the problems with the
    // arguments of lines that did (errors; a warning for ACL host bits).
    std::vector<Diagnostic> diagnostics;

    std::size_t begin_of(const ast::x3::position_tagged& node) const { return grammar::begin_of(node); }
    std::size_t end_of(const ast::x3::position_tagged& node) const { return grammar::end_of(node); }
};

// Parses every line of source.text(); `file` names it in diagnostics.
ParsedFile parse(const Source& source, const std::string& file);

// Takes each port section as soon as it is complete, in file order; `above`
// holds the global section and the orphan sections, complete by then.
using PortSink = std::function<void(const ast::File& above, const ast::PortSection& port)>;

// As parse(), but each port section goes to `sink` and is dropped after it,
// so tree.ports stays empty: a large file is never held whole (its syntax
// tree is several times the size of its text).
ParsedFile parse(const Source& source, const std::string& file, const PortSink& sink);

} // namespace tcpproxy::grammar
