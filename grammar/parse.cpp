// The driver: runs the line rule over the text line after line and folds
// the lines into the section tree (ast::File), or hands each port section
// on as it completes. A line that fails is reported
// by the error handler (below, with the driver: together they are "text in,
// tree and syntax errors out"); parsing resumes after its line end, so every
// bad line of a file is reported in one run.
#include "tcpproxy/grammar/parse.hpp"

#include "config.hpp"
#include "config_grammar.hpp"

#include "tcpproxy/core/text.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace tcpproxy::grammar {

namespace {

std::string control_message(char c)
{
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return std::string("control character ") + hex + " is not allowed outside comments";
}

// Sorts the lines into sections as they come (ast::File says how).
// With a sink, a port section is handed over when the next one starts (or
// the text ends) and dropped.
class Folder {
public:
    Folder(ast::File& file, const PortSink* sink) : file_(file), sink_(sink) {}

    void line(ast::Directive&& d)
    {
        if (d.keyword == "port") {
            hand_over();
            ast::PortSection port;
            tag_as(port, d);
            port.line = std::move(d);
            file_.ports.push_back(std::move(port));
            current_ = &file_.ports.back().body;
        } else if (d.keyword == "interface" && (!file_.ports.empty() || d.arguments.size() == 1)) {
            auto& sections = file_.ports.empty() ? file_.orphans : file_.ports.back().interfaces;
            ast::InterfaceSection section;
            tag_as(section, d);
            section.line = std::move(d);
            sections.push_back(std::move(section));
            current_ = &sections.back().body;
        } else {
            current_->directives.push_back(std::move(d));
        }
    }

    void broken_line() { current_->broken = true; }

    // The last port section, at the end of the text.
    void finish() { hand_over(); }

private:
    void hand_over()
    {
        if (!sink_ || file_.ports.empty())
            return;
        (*sink_)(file_, file_.ports.back());
        file_.ports.clear(); // (keeps its one slot for the next)
    }

    static void tag_as(ast::x3::position_tagged& node, const ast::Directive& line)
    {
        node.id_first = line.id_first;
        node.id_last = line.id_last;
    }

    ast::File& file_;
    const PortSink* sink_;
    ast::Section* current_ = &file_.global;
};

} // namespace

ErrorHandler::ErrorHandler(const Source& source, std::string file, std::vector<Diagnostic>& out)
    : source_(source), file_(std::move(file)), out_(out)
{
}

void ErrorHandler::report(iterator_type where, std::string message)
{
    out_.push_back(source_.diagnostic(Diagnostic::Severity::error, offset_of(where), file_, std::move(message)));
}

void ErrorHandler::argument_problem(Diagnostic::Severity severity, std::size_t offset, std::string message)
{
    pending_.push_back(source_.diagnostic(severity, offset, file_, std::move(message)));
}

void ErrorHandler::keep_argument_problems()
{
    out_.insert(out_.end(), std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
    pending_.clear();
}

void ErrorHandler::syntax_error(iterator_type line_start, iterator_type where, const std::string& which)
{
    const auto end = source_.text().end();
    const bool at_line_end = where == end || *where == '\n' || (*where == '\r' && where + 1 != end && where[1] == '\n');
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

namespace {

ParsedFile parse_lines(const Source& source, const std::string& file, const PortSink* sink)
{
    ParsedFile result;
    if (source.text().size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) { // (node positions are ints)
        result.diagnostics.push_back(Diagnostic{.severity = Diagnostic::Severity::error,
                                                .file = file,
                                                .line = 0,
                                                .column = 0,
                                                .message = "the configuration is larger than 2 GiB",
                                                .source_line = {}});
        return result;
    }
    Folder fold(result.tree, sink);
    ErrorHandler handler(source, file, result.diagnostics);
    const auto parser = x3::with<x3::error_handler_tag>(std::ref(handler))[line()];

    const std::string_view text = source.text();
    auto it = text.begin();
    const auto end = text.end();
    while (it != end) {
        ast::Directive directive;
        auto line_start = it;
        if (x3::parse(it, end, parser, directive)) {
            if (!directive.keyword.empty()) {
                read_arguments(directive, handler);
                fold.line(std::move(directive));
            }
        } else {
            fold.broken_line();
            it = std::find(line_start, end, '\n');
            if (it != end)
                ++it;
        }
        if (it == line_start) // cannot happen (a line always ends), but never spin
            break;
    }
    fold.finish();
    return result;
}

} // namespace

ParsedFile parse(const Source& source, const std::string& file) { return parse_lines(source, file, nullptr); }

ParsedFile parse(const Source& source, const std::string& file, const PortSink& sink)
{
    return parse_lines(source, file, &sink);
}

} // namespace tcpproxy::grammar
