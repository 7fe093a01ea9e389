// The directives' argument rules (grammar/directives.cpp): the typed value
// each one reads, and each class of argument error at its exact line:column.
#include "config/directive_table.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/grammar/directives.hpp"
#include "tcpproxy/grammar/parse.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace tcpproxy;

namespace {

// (the result owns its text and offsets: the Source need not outlive it)
grammar::ParsedFile parsed(const std::string& text) { return grammar::parse(grammar::Source(text), "t.conf"); }

// The value of the one directive of `line`, which must read without a problem.
ast::Value value_of(const std::string& line)
{
    auto p = parsed(line + "\n");
    // (Boost.Test builds the message even when the check holds.)
    BOOST_TEST_REQUIRE(p.diagnostics.empty(),
                       "unexpected: " << (p.diagnostics.empty() ? std::string() : p.diagnostics.front().message));
    BOOST_TEST_REQUIRE(p.tree.global.directives.size() == 1u);
    return p.tree.global.directives[0].value;
}

template <typename T>
T typed(const std::string& line)
{
    const auto v = value_of(line);
    BOOST_TEST_REQUIRE(std::holds_alternative<T>(v), line << ": another value family");
    return std::get<T>(v);
}

struct Expected {
    int line;
    int column;
    std::string needle;
    Diagnostic::Severity severity = Diagnostic::Severity::error;
};

void expect(const std::string& text, const std::vector<Expected>& expected)
{
    const auto p = parsed(text);
    BOOST_TEST_REQUIRE(p.diagnostics.size() == expected.size(), text);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& d = p.diagnostics[i];
        BOOST_TEST(d.line == expected[i].line, text);
        BOOST_TEST(d.column == expected[i].column, text);
        BOOST_TEST((d.severity == expected[i].severity), text);
        BOOST_TEST(d.message.find(expected[i].needle) != std::string::npos,
                   "'" << d.message << "' lacks '" << expected[i].needle << "'");
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(directive_rules)

BOOST_AUTO_TEST_CASE(numbers_and_choices)
{
    BOOST_TEST(*typed<std::optional<unsigned>>("timeout 30") == 30u);
    BOOST_TEST(*typed<std::optional<unsigned>>("max-sessions 7") == 7u);
    BOOST_TEST(*typed<std::optional<unsigned>>("max-per-client 3") == 3u);
    BOOST_TEST(*typed<std::optional<unsigned>>("proxy-header-timeout 9") == 9u);
    BOOST_TEST(*typed<std::optional<std::uint64_t>>("writefile-limit 1125899906842624") == (std::uint64_t{1} << 50));
    BOOST_TEST(*typed<std::optional<bool>>("standalone yes") == true);
    BOOST_TEST(*typed<std::optional<bool>>("extended-info no") == false);
    BOOST_TEST(*typed<std::optional<bool>>("accept-proxy \"yes\"") == true);
    BOOST_TEST((*typed<std::optional<RedirectMode>>("redirect-mode only") == RedirectMode::forward_only));
    BOOST_TEST((*typed<std::optional<SessionMode>>("session-mode keep") == SessionMode::keep));
    BOOST_TEST(*typed<std::optional<int>>("proxy-protocol v2") == 2);
}

BOOST_AUTO_TEST_CASE(addresses)
{
    BOOST_TEST(typed<std::optional<IpAddress>>("srcip [::1]")->str() == "::1");
    const auto range = typed<ast::AddressRange>("rotate 10.0.0.1 10.0.0.9");
    BOOST_TEST(range.first->str() == "10.0.0.1");
    BOOST_TEST(range.last->str() == "10.0.0.9");
}

BOOST_AUTO_TEST_CASE(words_paths_and_programs)
{
    BOOST_TEST(typed<std::string>("pidfile /run/t.pid") == "/run/t.pid");
    BOOST_TEST(typed<std::string>("statdir st") == "st");
    BOOST_TEST(typed<std::string>("session-dir \"s d\"") == "s d");
    BOOST_TEST(typed<std::string>("writefile cap") == "cap");
    BOOST_TEST(typed<std::string>("debug cap") == "cap");
    BOOST_TEST(typed<std::string>("logname svc") == "svc");
    BOOST_TEST(typed<std::string>("setenv TP_") == "TP_");
    BOOST_TEST(typed<std::string>("name \"a b\"") == "a b");
    BOOST_TEST(typed<std::string>("user nobody.nogroup") == "nobody.nogroup");
    BOOST_TEST(typed<std::string>("metrics 127.0.0.1:9100") == "127.0.0.1:9100");
    BOOST_TEST(*typed<std::optional<std::string>>("acp /bin/acp") == "/bin/acp");
    BOOST_TEST(typed<ast::Words>("exec /bin/h \"a b\" c").items == (std::vector<std::string>{"/bin/h", "a b", "c"}),
               boost::test_tools::per_element());
    BOOST_TEST(typed<ast::Words>("exit-handler /bin/e").items == std::vector<std::string>{"/bin/e"},
               boost::test_tools::per_element());
    BOOST_TEST(typed<ast::Words>("server a:1 [::1]:2").items == (std::vector<std::string>{"a:1", "[::1]:2"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(lists_span_words)
{
    const auto codes = typed<ast::ExitCodes>("exit-code ok, TIMEOUT,server");
    BOOST_TEST(codes.codes == (status_bit(Status::ok) | status_bit(Status::timeout) | status_bit(Status::server)));
}

BOOST_AUTO_TEST_CASE(acl_items_with_masks_and_signs)
{
    auto p = parsed("acl -10.1.0.0/16, +10.0.0.0/255.0.0.0, ::1\n");
    BOOST_TEST_REQUIRE(p.diagnostics.empty());
    const auto& acl = std::get<ast::AclList>(p.tree.global.directives.at(0).value).items;
    BOOST_TEST_REQUIRE(acl.size() == 3u);
    BOOST_TEST(!acl[0].allow);
    BOOST_TEST(acl[0].prefix == 16u);
    BOOST_TEST(acl[1].allow);
    BOOST_TEST(acl[1].prefix == 8u);
    BOOST_TEST(acl[2].prefix == 128u);
}

BOOST_AUTO_TEST_CASE(every_acl_directive_reads_an_acl_list)
{
    for (const std::string keyword : {"acl", "metrics-acl", "accept-proxy-from"})
        BOOST_TEST(typed<ast::AclList>(keyword + " 127.0.0.1, 10.0.0.0/8").items.size() == 2u, keyword);
}

BOOST_AUTO_TEST_CASE(port_and_interface_lines_keep_their_word)
{
    auto p = parsed("port smtp\n  interface eth0\n");
    BOOST_TEST(std::get<std::string>(p.tree.ports.at(0).line.value) == "smtp");
    BOOST_TEST(std::get<std::string>(p.tree.ports.at(0).interfaces.at(0).line.value) == "eth0");
}

BOOST_AUTO_TEST_CASE(an_unknown_keyword_is_left_unread)
{
    auto p = parsed("timout 5\n");
    BOOST_TEST(p.diagnostics.empty()); // validation reports it, with a suggestion
    BOOST_TEST(std::holds_alternative<std::monostate>(p.tree.global.directives.at(0).value));
    BOOST_TEST(p.tree.global.directives[0].arguments.at(0).text == "5");
    BOOST_TEST(p.tree.global.directives[0].info == nullptr);
    BOOST_TEST(parsed("timeout 5\n").tree.global.directives.at(0).info == grammar::find_directive("timeout"));
}

BOOST_AUTO_TEST_CASE(a_wrong_value_is_reported_at_its_column_and_leaves_the_value_empty)
{
    expect("timeout 30\n  timeout abc\n", {{2, 11, "is not a number of seconds"}});
    auto p = parsed("timeout abc\n");
    BOOST_TEST(!std::get<std::optional<unsigned>>(p.tree.global.directives.at(0).value));
    expect("standalone \"maybe\"\n", {{1, 13, "expected yes or no"}});
    expect("pidfile \"\"\n", {{1, 9, "empty pidfile path"}});
    expect("exec bin/x a\n", {{1, 6, "is not an absolute path"}});
    expect("logname a/b\n", {{1, 9, "is not a usable name"}});
}

BOOST_AUTO_TEST_CASE(every_wrong_value_of_a_line_is_reported)
{
    expect("rotate x y\n", {{1, 8, "is not an IPv4"}, {1, 10, "is not an IPv4"}});
    expect("rotate 10.0.0.9 10.0.0.1\n", {{1, 17, "the range ends before it starts"}});
    expect("rotate 10.0.0.1 ::1\n", {{1, 17, "not of the same address family"}});
    expect("acl 10.0.0.0/99, nope\n", {{1, 5, "prefix length /99"}, {1, 18, "is not a full"}});
    expect("exit-code ok, bad\n", {{1, 15, "unknown exit code"}});
    expect("session-keep-limit x -1\n", {{1, 20, "is not 0 (no limit)"}, {1, 22, "is not 0 (no limit)"}});
}

BOOST_AUTO_TEST_CASE(session_keep_limit_reads_count_and_optional_bytes)
{
    const auto both = typed<ast::KeepLimit>("session-keep-limit 5 0");
    BOOST_TEST(*both.files == 5u);
    BOOST_TEST(both.bytes_given);
    BOOST_TEST(*both.bytes == 0u);
    const auto count_only = typed<ast::KeepLimit>("session-keep-limit 0");
    BOOST_TEST(*count_only.files == 0u);
    BOOST_TEST(!count_only.bytes_given);
    expect("session-keep-limit 1 2 3\n", {{1, 24, "too many arguments for 'session-keep-limit'"}});
    expect("session-keep-limit\n", {{1, 1, "missing argument for 'session-keep-limit'"}});
}

BOOST_AUTO_TEST_CASE(list_punctuation)
{
    expect("acl 10.0.0.1 10.0.0.2\n", {{1, 14, "',' missing before '10.0.0.2'"}});
    expect("acl 10.0.0.1,,10.0.0.2\n", {{1, 14, "empty ACL item"}});
    expect("exit-code ok,\n", {{1, 13, "the exit code list ends with ','"}});
}

BOOST_AUTO_TEST_CASE(host_bits_are_a_warning)
{
    expect("acl 10.0.0.1/8\n", {{1, 5, "it means 10.0.0.0/8", Diagnostic::Severity::warning}});
}

BOOST_AUTO_TEST_CASE(argument_counts)
{
    expect("  timeout\n", {{1, 3, "missing argument for 'timeout' (usage: timeout SECONDS)"}});
    expect("rotate 10.0.0.1\n", {{1, 1, "missing arguments for 'rotate'"}});
    expect("rotate\n", {{1, 1, "missing argument for 'rotate'"}});
    expect("rotate 10.0.0.1 10.0.0.2 10.0.0.3\n", {{1, 26, "too many arguments for 'rotate'"}});
    expect("timeout 1 2 3\n", {{1, 11, "too many arguments for 'timeout'"}});
    expect("port\n", {{1, 1, "missing argument for 'port'"}});
    // A wrong count is reported alone: the wrong values are not read.
    expect("timeout abc def\n", {{1, 13, "too many arguments"}});
    auto p = parsed("timeout 1 2\n");
    BOOST_TEST(std::holds_alternative<std::monostate>(p.tree.global.directives.at(0).value));
}

BOOST_AUTO_TEST_CASE(a_misplaced_global_setting_has_its_value_checked_too)
{
    // The grammar reads the value before validation sees the level: both
    // problems of the line are reported in one run.
    const auto r = parse_config("port 1\n  server a:1\n  max-sessions lots\n", "t.conf");
    BOOST_TEST_REQUIRE(r.diagnostics.items().size() == 2u);
    BOOST_TEST(r.diagnostics.items()[0].column == 3);
    BOOST_TEST(r.diagnostics.items()[0].message.find("is a global setting") != std::string::npos);
    BOOST_TEST(r.diagnostics.items()[1].column == 16);
    BOOST_TEST(r.diagnostics.items()[1].message.find("is not a number (max-sessions") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_keyword_has_a_level_usage_and_an_effect)
{
    for (const auto& info : grammar::directives()) {
        BOOST_TEST(grammar::find_directive(info.keyword) != nullptr, info.keyword);
        BOOST_TEST(info.usage.starts_with(info.keyword), info.keyword);
        const bool opens_a_level = info.level == grammar::Level::port || info.level == grammar::Level::interface;
        BOOST_TEST((config::find_apply(info.keyword) != nullptr) == !opens_a_level, info.keyword);
    }
    BOOST_TEST(config::directive_table().size() + 2 == grammar::directives().size());
    BOOST_TEST(grammar::find_directive("Timeout") == nullptr);
    BOOST_TEST(grammar::find_directive("time") == nullptr);
    BOOST_TEST(grammar::find_directive("timeoutx") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
