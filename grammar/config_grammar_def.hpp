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
//
// The values (namespace values below) are the argument forms the config file
// and the command line share; grammar::seconds() & co. (values.hpp) run them
// over one whole word.
#include "tcpproxy/grammar/ast.hpp"
#include "ast_adapted.hpp"
#include "config_grammar.hpp"
#include "error_handler.hpp"
#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/utility/annotate_on_success.hpp>

namespace tcpproxy::grammar {
namespace parser {

namespace x3 = boost::spirit::x3;

// One character for which Test holds.
template <bool (*Test)(unsigned char)>
struct char_if_parser : x3::char_parser<char_if_parser<Test>> {
    using attribute_type = char;
    static const bool has_attribute = true;
    template <typename Char, typename Context>
    bool test(Char ch, const Context&) const
    {
        return Test(static_cast<unsigned char>(ch));
    }
};

// A character of an unquoted word: printable (or any byte >= 0x80, so UTF-8
// text passes), not a blank, not a quote, not the start of a comment.
inline bool is_word_char(unsigned char c) { return c != ' ' && c != '"' && c != '#' && !text::is_control(c); }

// A character inside double quotes: anything but the quote and control
// characters, tab allowed.
inline bool is_quoted_char(unsigned char c) { return c == '\t' || (c != '"' && !text::is_control(c)); }

// A character of a name that is part of file names (logname): no blank,
// control character or '/'.
inline bool is_name_char(unsigned char c) { return c != ' ' && c != '/' && !text::is_control(c); }

const char_if_parser<is_word_char> word_char{};
const char_if_parser<is_quoted_char> quoted_char{};
const char_if_parser<is_name_char> name_char{};

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

BOOST_SPIRIT_DEFINE(blank, comment, line_end, closing_quote, word, quoted_argument, bare_argument, argument, directive,
                    line)

// --- values (values.hpp) ------------------------------------------------
namespace values {

// A decimal number as written; its range is checked by the caller, which
// tells "not a number" from "out of range".
const x3::rule<class digits_class, std::string> digits = "number";
const auto digits_def = +x3::char_('0', '9');

const x3::symbols<bool> yes_no({{"yes", true}, {"no", false}}, "yes or no");

const x3::symbols<RedirectMode> redirect_mode({{"none", RedirectMode::none},
                                               {"accept", RedirectMode::accept},
                                               {"forward", RedirectMode::forward},
                                               {"forward-only", RedirectMode::forward_only},
                                               {"only", RedirectMode::forward_only}},
                                              "redirect mode");

const x3::symbols<SessionMode>
    session_mode({{"none", SessionMode::none}, {"keep", SessionMode::keep}, {"process", SessionMode::process}},
                 "session mode");

const x3::symbols<int> proxy_protocol({{"v1", 1}, {"v2", 2}}, "PROXY protocol version");

// Status names in lower case: exit_code matches them under no_case.
const x3::symbols<StatusSet> exit_code({{"ok", status_bit(Status::ok)},
                                        {"warning", status_bit(Status::warning)},
                                        {"access", status_bit(Status::access)},
                                        {"connect", status_bit(Status::connect)},
                                        {"timeout", status_bit(Status::timeout)},
                                        {"server", status_bit(Status::server)},
                                        {"client", status_bit(Status::client)},
                                        {"proxy", status_bit(Status::proxy)},
                                        {"any", all_statuses}},
                                       "exit code");

const x3::rule<class var_prefix_class, std::string> var_prefix = "variable prefix";
const auto var_prefix_def = x3::raw[x3::char_("A-Za-z_") >> *x3::char_("A-Za-z0-9_")];

const x3::rule<class logname_class, std::string> logname = "log name";
const auto logname_def = +name_char;

// An address is checked by IpAddress (inet_pton's rules): the rule takes
// its characters and fails when they are not one. In brackets, only IPv6.
template <std::optional<IpAddress> (*Parse)(std::string_view)>
const auto to_address = [](auto& ctx) {
    const auto range = x3::_attr(ctx);
    const auto parsed = Parse(std::string_view(range.begin(), static_cast<std::size_t>(range.size())));
    if (parsed)
        x3::_val(ctx) = *parsed;
    x3::_pass(ctx) = parsed.has_value();
};
const auto address_chars = x3::raw[+x3::char_("0-9A-Fa-f.:")];
const x3::rule<class ip_address_class, IpAddress> ip_address = "IP address";
const auto ip_address_def = (x3::lit('[') >> address_chars[to_address<&IpAddress::parse_v6>] >> ']') |
                            address_chars[to_address<&IpAddress::parse>];

const x3::rule<class program_class, std::string> program = "program";
const auto program_def = x3::raw[x3::char_('/') >> *x3::char_];

// The SERVER operand is a program when it is a path.
const auto program_operand = x3::char_("/.");

// [+|-]ADDR[/MASK]: the parts as written, checked by grammar::acl_item.
const x3::symbols<bool> acl_sign({{"+", true}, {"-", false}}, "'+' or '-'");
const x3::rule<class acl_text_class, ast::AclText> acl_text = "ACL item";
const x3::rule<class acl_mask_class, std::string> acl_mask = "mask";
const auto acl_mask_def = *x3::char_;
const auto acl_text_def = -acl_sign >> *(x3::char_ - '/') >> -('/' >> acl_mask);

// The items of a comma list, as written (blanks are trimmed by the caller).
const auto list_item = x3::raw[*(x3::char_ - ',')];

BOOST_SPIRIT_DEFINE(digits, var_prefix, logname, ip_address, program, acl_mask, acl_text)

} // namespace values

} // namespace parser

const parser::line_type& line() { return parser::line; }

} // namespace tcpproxy::grammar
