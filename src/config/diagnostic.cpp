#include "tcpproxy/grammar/diagnostic.hpp"

#include <algorithm>
#include <iterator>
#include <ostream>
#include <sstream>

namespace tcpproxy {

bool Diagnostics::has_errors() const { return error_count() != 0; }

std::size_t Diagnostics::error_count() const
{
    return static_cast<std::size_t>(std::count_if(
        items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::error; }));
}

std::size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

void Diagnostics::append(Diagnostics&& more)
{
    if (items_.empty()) {
        items_ = std::move(more.items_);
        return;
    }
    items_.insert(items_.end(), std::make_move_iterator(more.items_.begin()),
                  std::make_move_iterator(more.items_.end()));
    more.items_.clear();
}

void Diagnostics::sort()
{
    const auto before = [](const Diagnostic& a, const Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    };
    // Mostly in order already (validation goes through the file in order):
    // then stable_sort's buffer of a copy of every diagnostic is not needed.
    if (!std::is_sorted(items_.begin(), items_.end(), before))
        std::stable_sort(items_.begin(), items_.end(), before);
}

void print_diagnostic(std::ostream& out, const Diagnostic& d, bool colour)
{
    const bool error = d.severity == Diagnostic::Severity::error;
    const char* bold = colour ? "\033[1m" : "";
    const char* tint = colour ? (error ? "\033[1;31m" : "\033[1;35m") : "";
    const char* reset = colour ? "\033[0m" : "";
    out << bold << d.file;
    if (d.line > 0)
        out << ':' << d.line << ':' << d.column;
    out << ':' << reset << ' ' << tint << (error ? "error" : "warning") << ':' << reset << ' ' << d.message << '\n';
    if (d.line <= 0)
        return;
    out << "    " << d.source_line << '\n';
    // The caret lines up under the column; tabs are copied so it still does.
    std::string pad;
    for (int i = 0; i + 1 < d.column && static_cast<std::size_t>(i) < d.source_line.size(); ++i)
        pad += d.source_line[static_cast<std::size_t>(i)] == '\t' ? '\t' : ' ';
    out << "    " << pad << tint << '^' << reset << '\n';
}

void print_diagnostics(std::ostream& out, const Diagnostics& ds, bool colour)
{
    // Composed first, written some 32 KB at a time: std::cerr is unbuffered,
    // and a diagnostic piece by piece was about 11 write(2) calls (a
    // 10,000-line file with 1,000 warnings spent 88 % of --check-config's
    // time in them); all of them composed at once was a buffer grown to the
    // size of the whole text, and a copy of it, each new page a page fault.
    constexpr std::size_t batch = 32 * 1024;
    std::ostringstream text;
    for (const auto& d : ds.items()) {
        print_diagnostic(text, d, colour);
        if (static_cast<std::size_t>(text.tellp()) >= batch) {
            out << std::move(text).str();
            text.str({});
        }
    }
    out << std::move(text).str() << std::flush;
}

} // namespace tcpproxy
