#pragma once
// Byte offsets in a config text -> 1-based line and column, and the text of
// a line (without its line end) for the diagnostic's source excerpt.
#include "tcpproxy/grammar/diagnostic.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy::grammar {

struct Location {
    int line = 0;   // 1-based
    int column = 0; // 1-based, in bytes
};

class Source {
public:
    explicit Source(std::string_view text);

    std::string_view text() const { return text_; }
    Location locate(std::size_t offset) const;
    std::string_view line_text(int line) const; // "" when out of range
    // The line as a diagnostic shows it: control characters (other than tab)
    // become '?', so a terminal is never driven by config text and the caret
    // column still lines up.
    std::string excerpt(int line) const;
    // The diagnostic at `offset`: its line, column and excerpt filled in.
    Diagnostic diagnostic(Diagnostic::Severity severity, std::size_t offset, std::string file,
                          std::string message) const;

private:
    std::string_view text_;
    std::vector<std::size_t> line_starts_;
};

} // namespace tcpproxy::grammar
