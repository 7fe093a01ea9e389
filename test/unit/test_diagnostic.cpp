#include "tcpproxy/grammar/diagnostic.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace tcpproxy;

BOOST_AUTO_TEST_SUITE(diagnostic)

BOOST_AUTO_TEST_CASE(format_with_caret)
{
    Diagnostic d{Diagnostic::Severity::error, "t.conf", 3, 5, "unknown keyword \"sever\" (did you mean \"server\"?)",
                 "    sever 1.2.3.4"};
    std::ostringstream out;
    print_diagnostic(out, d);
    BOOST_TEST(out.str() == "t.conf:3:5: error: unknown keyword \"sever\" (did you mean \"server\"?)\n"
                            "        sever 1.2.3.4\n"
                            "        ^\n");
}

BOOST_AUTO_TEST_CASE(caret_follows_tabs)
{
    Diagnostic d{Diagnostic::Severity::warning, "t.conf", 1, 3, "m", "\t\tx"};
    std::ostringstream out;
    print_diagnostic(out, d);
    BOOST_TEST(out.str() == "t.conf:1:3: warning: m\n    \t\tx\n    \t\t^\n");
}

BOOST_AUTO_TEST_CASE(counts_and_order)
{
    Diagnostics ds;
    ds.add({Diagnostic::Severity::warning, "f", 9, 1, "w", ""});
    ds.add({Diagnostic::Severity::error, "f", 2, 4, "e", ""});
    ds.add({Diagnostic::Severity::error, "f", 2, 1, "e0", ""});
    ds.sort();
    BOOST_TEST(ds.error_count() == 2u);
    BOOST_TEST(ds.warning_count() == 1u);
    BOOST_TEST(ds.items().front().message == "e0");
    BOOST_TEST(ds.items().back().message == "w");
}

BOOST_AUTO_TEST_SUITE_END()
