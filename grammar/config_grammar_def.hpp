#pragma once
// The config grammar (reference §3.1):
//   line      := blank* directive? blank* comment? END
//   directive := keyword (blank+ argument)*
//   argument  := '"' qchar* '"' | wchar+
//   comment   := '#' anything up to the line end
//   END       := "\r\n" | "\n" | end of input
// A keyword is any word: whether it is known is decided by validation, which
// can then suggest the nearest one. Control characters other than tab are
// only allowed in comments (a CR only right before the LF).
#include "tcpproxy/grammar/ast.hpp"
#include "ast_adapted.hpp"
#include "config_grammar.hpp"
#include "error_handler.hpp"

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/utility/annotate_on_success.hpp>

namespace tcpproxy::grammar {
namespace parser {

namespace x3 = boost::spirit::x3;

inline bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// A character of an unquoted word: printable (or any byte >= 0x80, so UTF-8
// text passes), not a blank, not a quote, not the start of a comment.
struct word_char_parser : x3::char_parser<word_char_parser> {
    using attribute_type = char;
    static const bool has_attribute = true;
    template <typename Char, typename Context>
    bool test(Char ch, const Context&) const {
        auto c = static_cast<unsigned char>(ch);
        return c != ' ' && c != '"' && c != '#' && !is_control(c);
    }
};

// A character inside double quotes: anything but the quote and control
// characters, tab allowed.
struct quoted_char_parser : x3::char_parser<quoted_char_parser> {
    using attribute_type = char;
    static const bool has_attribute = true;
    template <typename Char, typename Context>
    bool test(Char ch, const Context&) const {
        auto c = static_cast<unsigned char>(ch);
        return c == '\t' || (c != '"' && !is_control(c));
    }
};

const word_char_parser word_char{};
const quoted_char_parser quoted_char{};

struct directive_class : x3::annotate_on_success {};
struct argument_class : x3::annotate_on_success {};
struct line_class : report_syntax_error {};

const x3::rule<class blank_class> blank = "blank";
const x3::rule<class comment_class> comment = "comment";
const x3::rule<class line_end_class> line_end = line_end_name;
const x3::rule<class closing_quote_class> closing_quote = closing_quote_name;
const x3::rule<class word_class, std::string> word = "word";
const x3::rule<class quoted_class, ast::Argument> quoted_argument = "quoted argument";
const x3::rule<class bare_class, ast::Argument> bare_argument = "argument";
const x3::rule<argument_class, ast::Argument> argument = "argument";
const x3::rule<directive_class, ast::Directive> directive = "directive";
const line_type line = "line";

const auto blank_def = x3::lit(' ') | x3::lit('\t');
const auto comment_def = x3::lit('#') >> *(x3::char_ - x3::lit('\n'));
const auto line_end_def = x3::lit("\r\n") | x3::lit('\n') | x3::eoi;
const auto closing_quote_def = x3::lit('"');
const auto word_def = +word_char;
const auto quoted_argument_def = (x3::lit('"') >> x3::attr(true)) > *quoted_char > closing_quote;
const auto bare_argument_def = x3::attr(false) >> word;
const auto argument_def = quoted_argument | bare_argument;
const auto directive_def = word >> *(x3::omit[+blank] >> argument);
const auto line_def = (x3::omit[*blank] >> -directive >> x3::omit[*blank] >> -comment) > line_end;

BOOST_SPIRIT_DEFINE(blank, comment, line_end, closing_quote, word, quoted_argument, bare_argument,
                    argument, directive, line)

} // namespace parser

const parser::line_type& line() { return parser::line; }

} // namespace tcpproxy::grammar
