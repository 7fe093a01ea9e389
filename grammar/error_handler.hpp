#pragma once
// Turns X3 failures and wrong argument values into positioned diagnostics
// and records, for annotate_on_success, where each AST node starts and ends.
//
// X3's stock x3::error_handler prints file, line and caret but no column and
// writes to a stream; ours records a tcpproxy::Diagnostic (file:line:column,
// message, source line) and lets the parse go on with the next line. Its
// members are defined in parse.cpp, with the driver that uses it.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/grammar/parse.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/utility/error_reporting.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy::grammar {

namespace x3 = boost::spirit::x3;

using iterator_type = std::string_view::const_iterator;

// Rule names used at the two expectation points of the grammar; the handler
// words its message by which of them failed.
inline constexpr const char* closing_quote_name = "closing quote";
inline constexpr const char* line_end_name = "end of line";

class ErrorHandler {
public:
    ErrorHandler(const Source& source, std::string file, std::vector<Diagnostic>& out);

    // Called by x3::annotate_on_success for every tagged node. The node's
    // ids hold its byte offsets themselves rather than indexes into X3's
    // position cache: the cache and its copy as offsets were two vectors of
    // two entries per word of the file, grown by doubling (a 10,000-line
    // file: a quarter of --check-config's page faults). The config text is
    // at most max_config_bytes, and parse() refuses one beyond an int.
    template <typename Node>
    void tag(Node& node, iterator_type first, iterator_type last)
    {
        node.id_first = static_cast<int>(offset_of(first));
        node.id_last = static_cast<int>(offset_of(last));
    }

    // A failed expectation `which` at `where`, in the line starting at line_start.
    void syntax_error(iterator_type line_start, iterator_type where, const std::string& which);

    std::size_t offset_of(iterator_type it) const { return static_cast<std::size_t>(it - source_.text().begin()); }

    // A problem with a directive's argument values: held until its arguments
    // are read whole, so that a wrong argument count is reported alone.
    void argument_problem(Diagnostic::Severity severity, std::size_t offset, std::string message);
    void keep_argument_problems();
    void drop_argument_problems() { pending_.clear(); }
    // A directive whose arguments could not be read (their count).
    void directive_error(const x3::position_tagged& node, std::string message)
    {
        out_.push_back(source_.diagnostic(Diagnostic::Severity::error, begin_of(node), file_, std::move(message)));
    }
    void argument_error(const ast::Argument& argument, std::string message)
    {
        out_.push_back(source_.diagnostic(Diagnostic::Severity::error, begin_of(argument), file_, std::move(message)));
    }

private:
    void report(iterator_type where, std::string message);

    const Source& source_;
    std::string file_;
    std::vector<Diagnostic>& out_;
    std::vector<Diagnostic> pending_;
};

// Mixed into the ID of the `line` rule: a line that fails is reported and
// the rule fails, so the driver can skip to the next line and go on.
struct report_syntax_error {
    template <typename Iterator, typename Exception, typename Context>
    x3::error_handler_result on_error(Iterator& first, const Iterator&, const Exception& x,
                                      const Context& context) const
    {
        auto& handler = x3::get<x3::error_handler_tag>(context).get();
        handler.syntax_error(first, x.where(), x.which());
        return x3::error_handler_result::fail;
    }
};

} // namespace tcpproxy::grammar
