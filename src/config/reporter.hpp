#pragma once
// Validation's way to speak: every problem becomes a Diagnostic pointing at a
// byte of the config text, worded and positioned exactly like a syntax error.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/grammar/parse.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

#include <cstddef>
#include <string>

namespace tcpproxy::config {

class Reporter {
public:
    Reporter(const grammar::Source& source, std::string file, Diagnostics& out)
        : source_(source), file_(std::move(file)), out_(out)
    {
    }

    void error(std::size_t offset, std::string message);
    void warning(std::size_t offset, std::string message);
    void error(const ast::x3::position_tagged& node, std::string message)
    {
        error(grammar::begin_of(node), std::move(message));
    }
    void warning(const ast::x3::position_tagged& node, std::string message)
    {
        warning(grammar::begin_of(node), std::move(message));
    }
    // A problem of the file as a whole (no line to show).
    void file_error(std::string message);

    int line_of(const ast::x3::position_tagged& node) const { return source_.locate(grammar::begin_of(node)).line; }

private:
    void add(Diagnostic::Severity severity, std::size_t offset, std::string message);

    const grammar::Source& source_;
    std::string file_;
    Diagnostics& out_;
};

} // namespace tcpproxy::config
