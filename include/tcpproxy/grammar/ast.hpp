#pragma once
// The syntax tree of a tcpproxy.conf file (reference §3.1): a flat list of
// directives, each a keyword and its arguments. Structure (global / port /
// interface) and meaning are the validator's business, so a file that is
// lexically fine always yields a tree, however wrong its content.
//
// Every node is x3::position_tagged: its source range is kept in the
// parser's position cache and looked up through grammar::ParsedFile. Only
// this small support header of Spirit is visible to the rest of the program.
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>

#include <string>
#include <vector>

namespace tcpproxy::ast {

namespace x3 = boost::spirit::x3;

struct Argument : x3::position_tagged {
    bool quoted = false; // written in double quotes (its range includes them)
    std::string text;    // without the quotes
};

struct Directive : x3::position_tagged {
    std::string keyword; // as written: validation decides whether it is known
    std::vector<Argument> arguments;
};

using Directives = std::vector<Directive>;

} // namespace tcpproxy::ast
