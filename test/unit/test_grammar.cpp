// The lexical rules of reference §3.1, seen through parse_config: what the
// grammar accepts reaches the Config unchanged, and every bad line is
// reported at its exact line and column.
#include "test_validate_helpers.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>

using namespace tcpproxy;
using namespace tcpproxy::test;

BOOST_AUTO_TEST_SUITE(config_grammar)

BOOST_AUTO_TEST_CASE(comments_blank_lines_and_indentation)
{
    auto c = valid("# a comment\n"
                   "\n"
                   "   \t \n"
                   "   # indented comment\n"
                   "timeout 30   # trailing comment\n"
                   "port 10025\t# after a tab\n"
                   "\t\tserver   127.0.0.1:10026\t \n");
    BOOST_TEST(c->ports.size() == 1u);
    BOOST_TEST(c->ports[0].services[0].timeout == 30u);
    BOOST_TEST(c->ports[0].services[0].servers[0].text == "127.0.0.1:10026");
}

BOOST_AUTO_TEST_CASE(crlf_line_ends_and_no_final_newline)
{
    auto c = valid("timeout 30\r\nport 10025\r\n  server 127.0.0.1:10026\r\n  name x # c\r\n# last");
    BOOST_TEST(c->ports[0].services[0].timeout == 30u);
    BOOST_TEST(c->ports[0].services[0].name == "x");
    auto d = valid("port 10025\r\n  server 127.0.0.1:10026");
    BOOST_TEST(d->ports[0].services[0].servers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(quoted_arguments_hold_blanks_and_hashes)
{
    auto c = valid("port 10025\n"
                   "  name \"svc # not a comment\"   # a comment\n"
                   "  exec /bin/handler \"arg with blanks\" plain \"\" \"tab\there\"\n");
    const auto& s = c->ports[0].services[0];
    BOOST_TEST(s.name == "svc # not a comment");
    BOOST_TEST(s.exec == (std::vector<std::string>{"/bin/handler", "arg with blanks", "plain", "", "tab\there"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(non_ascii_text_passes)
{
    auto c = valid("port 10025\n  server 127.0.0.1:10026\n  name \"Dienst \xc3\xbc\" \n");
    BOOST_TEST(c->ports[0].services[0].name == "Dienst \xc3\xbc");
}

BOOST_AUTO_TEST_CASE(control_character_in_an_argument)
{
    expect_error(service_head + "    name ab\x01"
                                "cd\n",
                 4, 12, "control character 0x01");
}

BOOST_AUTO_TEST_CASE(control_character_inside_quotes)
{
    expect_error(service_head + "    name \"ab\x7f\"\n", 4, 13, "control character 0x7F");
}

BOOST_AUTO_TEST_CASE(control_characters_in_comments_are_ignored)
{
    valid(service_head + "# \x01\x02\x1b[31m anything \r goes\n");
}

BOOST_AUTO_TEST_CASE(lone_carriage_return_is_an_error)
{
    expect_error(service_head + "    name x\ry\n", 4, 11, "control character 0x0D");
}

BOOST_AUTO_TEST_CASE(nul_byte_is_an_error)
{
    expect_error(service_head + std::string("    name a\0b\n", 13), 4, 11, "control character 0x00");
}

BOOST_AUTO_TEST_CASE(control_character_is_shown_as_question_mark)
{
    auto r = load(service_head + "    name ab\x1b"
                                 "cd\n");
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    BOOST_TEST(r.diagnostics.items()[0].source_line == "    name ab?cd");
}

BOOST_AUTO_TEST_CASE(unterminated_quote_points_at_the_opening_quote)
{
    expect_error(service_head + "    name \"unterminated\n", 4, 10, "unterminated quoted string");
}

BOOST_AUTO_TEST_CASE(unterminated_quote_at_the_end_of_the_text)
{
    // Found by fuzz_config: the search for the opening quote read the byte
    // past the end. The text is copied into a buffer of its exact size, so
    // the sanitizer build (.ci/run) catches such a read.
    for (const std::string tail : {"    name \"abc", "    name \"", "    name \"abc\r\n"}) {
        const std::string text = service_head + tail;
        const auto exact = std::make_unique<char[]>(text.size());
        std::copy(text.begin(), text.end(), exact.get());
        auto r = parse_config(std::string_view(exact.get(), text.size()), "t.conf");
        BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
        BOOST_TEST(r.diagnostics.items()[0].line == 4);
        BOOST_TEST(r.diagnostics.items()[0].column == 10);
        BOOST_TEST(r.diagnostics.items()[0].message.find("unterminated quoted string") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(quoted_keyword)
{
    expect_error(service_head + "  \"name\" x\n", 4, 3, "keyword cannot be quoted");
}

BOOST_AUTO_TEST_CASE(quote_inside_a_word)
{
    expect_error(service_head + "    name foo\"bar\"\n", 4, 13, "inside an unquoted argument");
}

BOOST_AUTO_TEST_CASE(text_glued_to_a_closing_quote)
{
    expect_error(service_head + "    name \"a\"b\n", 4, 13, "expected a blank");
}

BOOST_AUTO_TEST_CASE(every_bad_line_is_reported_and_parsing_goes_on)
{
    auto r = load("name \"open\n" // 1: syntax
                  "timout 5\n"    // 2: validation, after a syntax error
                  "name a\x02\n"  // 3: syntax
                  "port 10025\n"
                  "  server 127.0.0.1:1\n"
                  "  name \"x\"y\n"); // 6: syntax
    std::vector<int> lines;
    for (const auto& d : r.diagnostics.items())
        lines.push_back(d.line);
    BOOST_TEST(lines == (std::vector<int>{1, 2, 3, 6}), boost::test_tools::per_element());
    BOOST_TEST(!r.config);
}

BOOST_AUTO_TEST_CASE(a_bad_line_contributes_no_directive)
{
    // The half-parsed `name` must not also be reported as a duplicate or
    // as missing its argument: one error for the line, no more.
    auto r = load(service_head + "    name \"abc\n    name ok\n");
    BOOST_TEST(r.diagnostics.items().size() == 1u, dump(r.diagnostics));
}

BOOST_AUTO_TEST_CASE(keywords_are_lower_case)
{
    expect_error(service_head + "    Timeout 5\n", 4, 5, "keywords are lower case (did you mean 'timeout'?)");
}

BOOST_AUTO_TEST_CASE(source_line_without_line_end)
{
    auto r = load("port 10025\r\n  timout 1\r\n  server 127.0.0.1:1\r\n");
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    BOOST_TEST(r.diagnostics.items()[0].source_line == "  timout 1");
}

BOOST_AUTO_TEST_CASE(empty_file_has_no_port)
{
    auto r = load("");
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 1u);
    BOOST_TEST(r.diagnostics.items()[0].line == 0);
    BOOST_TEST(r.diagnostics.items()[0].message.find("no 'port'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// The section tree (ast::File) the grammar folds the lines into.
#include "tcpproxy/grammar/parse.hpp"

BOOST_AUTO_TEST_SUITE(grammar_tree)

namespace {

// (the result owns its text and offsets: the Source need not outlive it)
grammar::ParsedFile parsed(const std::string& text) { return grammar::parse(grammar::Source(text), "t.conf"); }

std::vector<std::string> keywords(const ast::Section& s)
{
    std::vector<std::string> out;
    for (const auto& d : s.directives)
        out.push_back(d.keyword);
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(lines_fold_into_global_port_and_interface_sections)
{
    const auto p = parsed("timeout 5\n"
                          "standalone yes\n"
                          "port 10025\n"
                          "  server a:1\n"
                          "  interface 127.0.0.1\n"
                          "    acl 10.0.0.0/8\n"
                          "  interface eth0\n"
                          "port 10026\n"
                          "  exec /bin/x\n");
    const auto& f = p.tree;
    BOOST_TEST(keywords(f.global) == (std::vector<std::string>{"timeout", "standalone"}),
               boost::test_tools::per_element());
    BOOST_TEST(f.orphans.empty());
    BOOST_TEST_REQUIRE(f.ports.size() == 2u);
    BOOST_TEST(f.ports[0].line.arguments.at(0).text == "10025");
    BOOST_TEST(keywords(f.ports[0].body) == std::vector<std::string>{"server"}, boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(f.ports[0].interfaces.size() == 2u);
    BOOST_TEST(f.ports[0].interfaces[0].line.arguments.at(0).text == "127.0.0.1");
    BOOST_TEST(keywords(f.ports[0].interfaces[0].body) == std::vector<std::string>{"acl"},
               boost::test_tools::per_element());
    BOOST_TEST(f.ports[0].interfaces[1].body.directives.empty());
    BOOST_TEST(keywords(f.ports[1].body) == std::vector<std::string>{"exec"}, boost::test_tools::per_element());
    // Sections carry the position of their opening line.
    BOOST_TEST(grammar::begin_of(f.ports[1]) == grammar::begin_of(f.ports[1].line));
    BOOST_TEST(grammar::begin_of(f.ports[0].interfaces[0]) ==
               std::string_view("timeout 5\nstandalone yes\nport 10025\n  server a:1\n  ").size());
}

BOOST_AUTO_TEST_CASE(a_broken_line_marks_its_section)
{
    const auto p = parsed("name \"open\n"
                          "port 1\n"
                          "  interface eth0\n"
                          "    name a\"b\n"
                          "    server a:1\n");
    BOOST_TEST(p.tree.global.broken);
    BOOST_TEST(p.tree.global.directives.empty());
    BOOST_TEST(!p.tree.ports.at(0).body.broken);
    BOOST_TEST(p.tree.ports.at(0).interfaces.at(0).body.broken);
    BOOST_TEST(keywords(p.tree.ports[0].interfaces[0].body) == std::vector<std::string>{"server"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(interface_before_any_port_is_an_orphan_section)
{
    const auto p = parsed("interface eth0\n  server a:1\ninterface\n  acp /x\nport 1\n");
    BOOST_TEST_REQUIRE(p.tree.orphans.size() == 1u);
    // Without its argument it opens nothing: it stays a directive, for validation to report.
    BOOST_TEST(keywords(p.tree.orphans[0].body) == (std::vector<std::string>{"server", "interface", "acp"}),
               boost::test_tools::per_element());
    BOOST_TEST(p.tree.ports.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_bad_port_line_still_opens_a_port_section)
{
    const auto p = parsed("port\n  server a:1\nport 1 2\n");
    BOOST_TEST_REQUIRE(p.tree.ports.size() == 2u);
    BOOST_TEST(p.tree.ports[0].line.arguments.empty());
    BOOST_TEST(keywords(p.tree.ports[0].body) == std::vector<std::string>{"server"}, boost::test_tools::per_element());
    BOOST_TEST(p.tree.global.directives.empty());
}

BOOST_AUTO_TEST_SUITE_END()
