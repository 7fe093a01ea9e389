#pragma once
// Shared by the config unit tests (test_grammar, test_validate, test_inherit):
// load a text and look at its diagnostics and resolved Config.
#include "tcpproxy/config/config_load.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>

namespace tcpproxy::test {

inline std::string dump(const Diagnostics& ds)
{
    std::ostringstream out;
    print_diagnostics(out, ds);
    return out.str();
}

inline LoadResult load(const std::string& text) { return parse_config(text, "t.conf"); }

// Loads text that must be valid; fails the test with the diagnostics otherwise.
inline std::shared_ptr<Config> valid(const std::string& text)
{
    auto r = load(text);
    BOOST_TEST_REQUIRE(static_cast<bool>(r.config), "expected a valid config, got:\n" << dump(r.diagnostics));
    return r.config;
}

inline int count(const LoadResult& r, Diagnostic::Severity s)
{
    int n = 0;
    for (const auto& d : r.diagnostics.items())
        n += d.severity == s;
    return n;
}

// Exactly one diagnostic of `severity` at line:column, and its message holds `needle`.
inline void expect_one(const std::string& text, Diagnostic::Severity severity, int line, int column,
                       const std::string& needle)
{
    auto r = load(text);
    const Diagnostic* found = nullptr;
    int same_severity = 0;
    for (const auto& d : r.diagnostics.items()) {
        if (d.severity != severity)
            continue;
        ++same_severity;
        found = &d;
    }
    BOOST_TEST_REQUIRE(same_severity == 1, "expected exactly one "
                                               << (severity == Diagnostic::Severity::error ? "error" : "warning")
                                               << ", got:\n"
                                               << dump(r.diagnostics) << "for:\n"
                                               << text);
    BOOST_TEST(found->file == "t.conf");
    BOOST_TEST(found->line == line, "line: " << dump(r.diagnostics));
    BOOST_TEST(found->column == column, "column: " << dump(r.diagnostics));
    BOOST_TEST(found->message.find(needle) != std::string::npos,
               "message '" << found->message << "' lacks '" << needle << "'");
    BOOST_TEST(static_cast<bool>(r.config) == (severity == Diagnostic::Severity::warning));
}

inline void expect_error(const std::string& text, int line, int column, const std::string& needle)
{
    expect_one(text, Diagnostic::Severity::error, line, column, needle);
}

inline void expect_warning(const std::string& text, int line, int column, const std::string& needle)
{
    expect_one(text, Diagnostic::Severity::warning, line, column, needle);
}

// A minimal valid port block to put around a directive under test.
inline const std::string service_head = "port 10025\n  interface 127.0.0.1\n    server 127.0.0.1:10026\n";

} // namespace tcpproxy::test
