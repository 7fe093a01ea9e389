// The one child supervisor: exit status, stderr lines (cleaned, bounded,
// handed on as they come), the deadline and the session's stop, and a
// program that cannot start.
#include "tcpproxy/process/supervisor.hpp"

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>

using namespace tcpproxy;
using namespace std::chrono_literals;

namespace {

Supervisor start_sh(const std::string& script)
{
    auto s = Supervisor::start(Child::Spec{{"/bin/sh", "-c", script}, {"PATH=/usr/bin:/bin"}}, std::nullopt);
    BOOST_REQUIRE_MESSAGE(s, (s ? std::string() : s.error().message));
    return std::move(*s);
}

} // namespace

BOOST_AUTO_TEST_SUITE(supervisor)

BOOST_AUTO_TEST_CASE(exit_status_and_lines_as_they_come)
{
    auto program = start_sh("echo one >&2; printf 'two\\033[2J\\n' >&2; printf 'three' >&2; exit 4");
    std::vector<std::string> seen;
    Supervision how;
    how.on_line = [&](const std::string& l) { seen.push_back(l); };
    const auto end = program.wait(how);
    BOOST_TEST((end.kind == ChildEnd::Kind::exited));
    BOOST_TEST(WIFEXITED(end.wait_status));
    BOOST_TEST(WEXITSTATUS(end.wait_status) == 4);
    BOOST_TEST(seen == (std::vector<std::string>{"one", "two?[2J", "three"}), boost::test_tools::per_element());
    BOOST_TEST(end.lines.empty(), "handed on, not kept");
}

BOOST_AUTO_TEST_CASE(lines_are_bounded_in_length_and_number)
{
    auto program = start_sh("i=0; while [ $i -lt 20 ]; do echo abcdefghij >&2; i=$((i+1)); done");
    Supervision how;
    how.max_lines = 2;
    how.max_line_bytes = 4;
    const auto end = program.wait(how);
    BOOST_TEST(end.lines == (std::vector<std::string>{"abcd", "abcd", "(18 more lines not shown)"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_deadline_ends_it)
{
    auto program = start_sh("echo ready >&2; exec sleep 30");
    Supervision how;
    how.deadline_ms = Activity::now_ms() + 200;
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = program.wait(how);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
    BOOST_TEST((end.kind == ChildEnd::Kind::timed_out));
    BOOST_TEST(WIFSIGNALED(end.wait_status));
    BOOST_TEST(WTERMSIG(end.wait_status) == SIGKILL, "no grace: SIGKILL at once");
}

BOOST_AUTO_TEST_CASE(sigkill_follows_an_ignored_sigterm_after_the_grace)
{
    // It ignores SIGTERM; the session stops once it has said so.
    auto program = start_sh("trap '' TERM; echo ready >&2; while :; do sleep 1; done");
    Activity activity;
    Supervision how;
    how.activity = &activity;
    how.grace_ms = 200;
    how.on_line = [&](const std::string& line) {
        if (line == "ready")
            activity.stop();
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = program.wait(how);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
    BOOST_TEST((end.kind == ChildEnd::Kind::stopped));
    BOOST_TEST(WIFSIGNALED(end.wait_status));
    BOOST_TEST(WTERMSIG(end.wait_status) == SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_stopping_session_ends_it_with_sigterm)
{
    auto program = start_sh("exec sleep 30");
    Activity activity;
    activity.stop();
    Supervision how;
    how.activity = &activity;
    how.grace_ms = 10'000;
    const auto end = program.wait(how);
    BOOST_TEST((end.kind == ChildEnd::Kind::stopped));
    BOOST_TEST(WIFSIGNALED(end.wait_status));
    BOOST_TEST(WTERMSIG(end.wait_status) == SIGTERM);
}

BOOST_AUTO_TEST_CASE(a_program_that_cannot_start_is_an_outcome_naming_the_call)
{
    const auto s = Supervisor::start(Child::Spec{{"/nonexistent/program"}, {}}, std::nullopt);
    BOOST_REQUIRE(!s);
    BOOST_TEST(s.error().message.starts_with("execve(/nonexistent/program): "), s.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
