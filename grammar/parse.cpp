// The driver: runs the line rule over the text line after line. A line that
// fails has been reported by the error handler; parsing resumes after its
// line end, so every bad line of a file is reported in one run.
#include "tcpproxy/grammar/parse.hpp"

#include "config.hpp"
#include "config_grammar.hpp"

#include <algorithm>

namespace tcpproxy::grammar {

ParsedFile parse(const Source& source, const std::string& file) {
    ParsedFile result;
    ErrorHandler handler(source, file, result.errors);
    const auto parser = x3::with<x3::error_handler_tag>(std::ref(handler))[line()];

    const std::string_view text = source.text();
    auto it = text.begin();
    const auto end = text.end();
    while (it != end) {
        ast::Directive directive;
        auto line_start = it;
        if (x3::parse(it, end, parser, directive)) {
            if (!directive.keyword.empty())
                result.directives.push_back(std::move(directive));
        } else {
            it = std::find(line_start, end, '\n');
            if (it != end)
                ++it;
        }
        if (it == line_start) // cannot happen (a line always ends), but never spin
            break;
    }

    const auto& cached = handler.positions().get_positions();
    result.positions.reserve(cached.size());
    for (auto pos : cached)
        result.positions.push_back(handler.offset_of(pos));
    return result;
}

} // namespace tcpproxy::grammar
