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

// Where a node starts in the text: the grammar keeps its byte offset in the
// node's id (the one reading of positions, for the grammar's diagnostics and
// validation's alike).
inline std::size_t begin_of(const ast::x3::position_tagged& node)
{
    if (node.id_first < 0) // a node the grammar did not make
        throw std::out_of_range("no source position");
    return static_cast<std::size_t>(node.id_first);
}
// Where an argument's text starts: after its opening quote, if any.
inline std::size_t text_of(const ast::Argument& argument) { return begin_of(argument) + (argument.quoted ? 1 : 0); }
// Where a wrong value is shown: at its first byte; an empty one at its quote.
inline std::size_t value_at(const ast::Argument& argument)
{
    return argument.text.empty() ? begin_of(argument) : text_of(argument);
}

struct ParsedFile {
    ast::File tree; // every line that parsed and is not blank, in its section
    // One error per line that did not parse, and the problems with the
    // arguments of lines that did (errors; a warning for ACL host bits).
    std::vector<Diagnostic> diagnostics;
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
