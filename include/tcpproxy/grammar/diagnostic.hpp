#pragma once
// Positioned diagnostics (reference §3.4): parse and validation problems are
// collected, never thrown, and printed as
//   FILE:LINE:COLUMN: error: MESSAGE
//       <the offending line>
//       <caret>
#include <ostream>
#include <string>
#include <vector>

namespace tcpproxy {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::string file;
    int line = 0;   // 1-based; 0 = no position (then no source line either)
    int column = 0; // 1-based
    std::string message;
    std::string source_line; // without its line end
};

class Diagnostics {
public:
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void append(Diagnostics&& more);
    const std::vector<Diagnostic>& items() const { return items_; }
    bool has_errors() const;
    std::size_t error_count() const;
    std::size_t warning_count() const;
    // Sorted by line and column, as a reader expects to meet them.
    void sort();

private:
    std::vector<Diagnostic> items_;
};

// Writes one diagnostic in the §3.4 format; colour only when asked (a tty).
void print_diagnostic(std::ostream& out, const Diagnostic& d, bool colour = false);
void print_diagnostics(std::ostream& out, const Diagnostics& ds, bool colour = false);

} // namespace tcpproxy
