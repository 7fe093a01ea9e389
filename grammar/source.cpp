#include "tcpproxy/grammar/source.hpp"

#include "tcpproxy/core/text.hpp"

#include <algorithm>

namespace tcpproxy::grammar {

Source::Source(std::string_view text) : text_(text)
{
    // Counted first: one exact allocation instead of a doubling vector.
    line_starts_.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    line_starts_.push_back(0);
    for (auto at = text.find('\n'); at != std::string_view::npos; at = text.find('\n', at + 1))
        line_starts_.push_back(at + 1);
}

Location Source::locate(std::size_t offset) const
{
    offset = std::min(offset, text_.size());
    // The last line start not after offset.
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    auto index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
    return {static_cast<int>(index) + 1, static_cast<int>(offset - line_starts_[index]) + 1};
}

std::string_view Source::line_text(int line) const
{
    if (line < 1 || static_cast<std::size_t>(line) > line_starts_.size())
        return {};
    auto start = line_starts_[static_cast<std::size_t>(line) - 1];
    auto end = text_.find('\n', start);
    if (end == std::string_view::npos)
        end = text_.size();
    if (end > start && text_[end - 1] == '\r')
        --end;
    return text_.substr(start, end - start);
}

std::string Source::excerpt(int line) const
{
    std::string shown(line_text(line));
    // Byte for byte (not text::clean, which also takes tabs and folds a C1
    // control's two bytes into one), so the caret column still lines up.
    for (auto& c : shown)
        if (c != '\t' && text::is_control(static_cast<unsigned char>(c)))
            c = '?';
    return shown;
}

Diagnostic Source::diagnostic(Diagnostic::Severity severity, std::size_t offset, std::string file,
                              std::string message) const
{
    const Location at = locate(offset);
    Diagnostic d;
    d.severity = severity;
    d.file = std::move(file);
    d.line = at.line;
    d.column = at.column;
    d.message = std::move(message);
    d.source_line = excerpt(at.line);
    return d;
}

} // namespace tcpproxy::grammar
