#include "error_handler.hpp"

#include "tcpproxy/core/text.hpp"

#include <cstdio>

namespace tcpproxy::grammar {

namespace {

std::string control_message(char c) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return std::string("control character ") + hex + " is not allowed outside comments";
}

} // namespace

ErrorHandler::ErrorHandler(const Source& source, std::string file, std::vector<Diagnostic>& out)
    : source_(source), file_(std::move(file)), out_(out),
      positions_(source.text().begin(), source.text().end()) {}

void ErrorHandler::report(iterator_type where, std::string message) {
    Location at = source_.locate(offset_of(where));
    Diagnostic d;
    d.severity = Diagnostic::Severity::error;
    d.file = file_;
    d.line = at.line;
    d.column = at.column;
    d.message = std::move(message);
    d.source_line = source_.excerpt(at.line);
    out_.push_back(std::move(d));
}

void ErrorHandler::syntax_error(iterator_type line_start, iterator_type where, const std::string& which) {
    const auto end = source_.text().end();
    const bool at_line_end = where == end || *where == '\n' ||
                             (*where == '\r' && where + 1 != end && where[1] == '\n');
    if (!at_line_end && text::is_control(static_cast<unsigned char>(*where))) {
        report(where, control_message(*where));
        return;
    }
    if (which == closing_quote_name) {
        // The quoted text holds no quote, so the nearest one back is the opening one.
        // (where may be the end of the text: look only before it)
        auto open = where;
        while (open != line_start && *--open != '"') {
        }
        report(open, "unterminated quoted string: the closing '\"' is missing");
        return;
    }
    // The end of the line was expected: something glued to an argument.
    if (at_line_end) { // not reached: the line end is what was expected
        report(where, "syntax error");
        return;
    }
    if (*where == '"') {
        bool first_word = true;
        for (auto it = line_start; it != where; ++it)
            if (*it != ' ' && *it != '\t')
                first_word = false;
        report(where, first_word ? "a keyword cannot be quoted"
                                 : "'\"' inside an unquoted argument: quote the whole argument");
        return;
    }
    report(where, "expected a blank between arguments");
}

} // namespace tcpproxy::grammar
