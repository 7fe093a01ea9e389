#include "reporter.hpp"

namespace tcpproxy::config {

void Reporter::add(Diagnostic::Severity severity, std::size_t offset, std::string message)
{
    out_.add(source_.diagnostic(severity, offset, file_, std::move(message)));
}

void Reporter::error(std::size_t offset, std::string message)
{
    add(Diagnostic::Severity::error, offset, std::move(message));
}

void Reporter::warning(std::size_t offset, std::string message)
{
    add(Diagnostic::Severity::warning, offset, std::move(message));
}

void Reporter::file_error(std::string message)
{
    Diagnostic d;
    d.file = file_;
    d.message = std::move(message);
    out_.add(std::move(d));
}

} // namespace tcpproxy::config
