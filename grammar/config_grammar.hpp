#pragma once
// Declarations of the config grammar's entry rule; the definitions are in
// config_grammar_def.hpp and instantiated once in config_grammar.cpp.
//
// The entry rule is one line, not the whole file: the driver (parse.cpp)
// runs it line after line, so that a bad line is reported and the next one
// is still parsed.
#include "tcpproxy/grammar/ast.hpp"

#include <boost/spirit/home/x3.hpp>

namespace tcpproxy::grammar {

namespace parser {
namespace x3 = boost::spirit::x3;
struct line_class;
// An empty keyword: the line held only blanks and/or a comment.
using line_type = x3::rule<line_class, ast::Directive>;
BOOST_SPIRIT_DECLARE(line_type);
} // namespace parser

const parser::line_type& line();

class ErrorHandler;
// Reads a parsed line's arguments with its keyword's rule (directives.cpp)
// into directive.value; problems go to the handler. An unknown keyword is
// left unread.
void read_arguments(ast::Directive& directive, ErrorHandler& handler);

} // namespace tcpproxy::grammar
