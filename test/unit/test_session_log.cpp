// Session logfiles (§4.7): creation, appends, keep/process/remove, the exit handler.
#include "tcpproxy/report/session_log.hpp"

#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/process/spawner.hpp"
#include "tcpproxy/cli/cli.hpp"

#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

using namespace tcpproxy;
using tcpproxy::test::entries;
using tcpproxy::test::slurp;
using tcpproxy::test::TempDir;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A handler that records its arguments, environment and stdin in OUT.
std::vector<std::string> recording_handler(const fs::path& out)
{
    const std::string script = "printf '%s\\n' \"$@\" > '" + out.string() + ".args'; env > '" + out.string() +
                               ".env'; cat > '" + out.string() + ".stdin'";
    return {"/bin/sh", "-c", script, "handler", "--flag", "two words"};
}

SessionHandling handling(SessionMode mode, const std::string& dir, StatusSet codes,
                         std::vector<std::string> handler = {})
{
    SessionHandling h;
    h.mode = mode;
    h.dir = dir;
    h.exit_codes = codes;
    h.exit_handler = std::move(handler);
    return h;
}

bool no_children_left()
{
    int st = 0;
    return ::waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

// Whether this system lets a child take `uid`/`gid` and run /bin/sh at all:
// in a root built with restrictive permissions (a chroot whose / is 0700, a
// user namespace without those ids) it cannot, whatever run_exit_handler
// does. Empty when it can, else the step that failed.
std::string identity_probe(uid_t uid, gid_t gid)
{
    int p[2];
    BOOST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        const char* step = "setgroups";
        if (::setgroups(1, &gid) == 0 && (step = "setgid", ::setgid(gid) == 0) &&
            (step = "setuid", ::setuid(uid) == 0)) {
            step = "execve(/bin/sh)";
            ::execl("/bin/sh", "sh", "-c", "exit 0", static_cast<char*>(nullptr));
        }
        const int err = errno;
        [[maybe_unused]] auto n = ::write(p[1], step, std::strlen(step));
        n = ::write(p[1], ": ", 2);
        n = ::write(p[1], std::strerror(err), std::strlen(std::strerror(err)));
        ::_exit(127);
    }
    ::close(p[1]);
    std::string failed;
    char buf[256];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;)
        failed.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (failed.empty() && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        failed = "/bin/sh as " + std::to_string(uid) + " exited with wait status " + std::to_string(st);
    return failed;
}

// While it lives, programs start through a privileged spawner (as in a
// daemon started as root) whose configuration has one service for each of
// `identities` (service N as identities[N]) and `/bin/sh -c script` as the exit handler.
class ThroughSpawner {
public:
    ThroughSpawner(const std::vector<Identity>& identities, const std::string& script)
    {
        Config config;
        config.session.mode = SessionMode::process;
        config.session.exit_handler = {"/bin/sh", "-c", script};
        PortConfig port;
        port.port = 1;
        for (const auto& id : identities) {
            Service s;
            s.user = id;
            port.services.push_back(s);
        }
        config.ports.push_back(port);
        std::cout.flush(); // or the forked spawner writes what is buffered a second time
        spawner_ = Spawner::start(CommandLine{}, config, "");
        launch::use_spawner(spawner_->client(), default_credentials());
    }
    ~ThroughSpawner() { launch::use_spawner(nullptr, default_credentials()); }
    ThroughSpawner(const ThroughSpawner&) = delete;
    ThroughSpawner& operator=(const ThroughSpawner&) = delete;

private:
    std::unique_ptr<Spawner> spawner_;
};

// Whether `pid` is gone (or a zombie nobody of ours has to reap), polled for up to 5 s.
bool process_ends(pid_t pid)
{
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            return true;
        const auto close = line.rfind(')');
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z')
            return true;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

// Through a ThroughSpawner, `service` names the program (the spawner runs its own script).
HandlerRun run_script(const std::string& script, const HandlerLimits& limits = {},
                      const std::optional<Identity>& id = std::nullopt,
                      std::optional<std::uint32_t> service = std::nullopt)
{
    std::optional<HandlerRef> ref;
    if (service)
        ref = HandlerRef{0, *service, HandlerRole::exit_handler, {}};
    return run_exit_handler({"/bin/sh", "-c", script}, 0, {"PATH=/usr/bin:/bin"}, id, limits, ref);
}

} // namespace

BOOST_AUTO_TEST_SUITE(session_log)

BOOST_AUTO_TEST_CASE(created_private_and_appended)
{
    TempDir dir;
    const mode_t old = ::umask(0); // the file must be 0600 however permissive the umask
    SessionLog log(dir.str(), "tcpproxy", 4242, 9);
    ::umask(old);
    BOOST_TEST(log.path() == dir.str() + "/tcpproxy.4242.9.log");
    struct stat st {};
    BOOST_REQUIRE_EQUAL(::lstat(log.path().c_str(), &st), 0);
    BOOST_TEST(S_ISREG(st.st_mode));
    BOOST_TEST((st.st_mode & 07777) == 0600u);
    log.append("session=9 client=127.0.0.2 accepted");
    log.append("two\nlines\n");
    BOOST_TEST(slurp(log.path()) == "session=9 client=127.0.0.2 accepted\ntwo lines\n");
}

BOOST_AUTO_TEST_CASE(planted_file_or_symlink_is_refused_not_followed)
{
    TempDir dir;
    const fs::path target = dir.path / "victim";
    {
        std::ofstream(target) << "precious\n";
    }
    fs::create_symlink(target, dir.path / "tcpproxy.1.1.log");
    try {
        SessionLog log(dir.str(), "tcpproxy", 1, 1);
        BOOST_FAIL("no exception");
    } catch (const std::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("open(" + dir.str() + "/tcpproxy.1.1.log): File exists") !=
                       std::string::npos,
                   e.what());
    }
    BOOST_TEST(slurp(target) == "precious\n");
    BOOST_TEST(fs::is_symlink(dir.path / "tcpproxy.1.1.log"));
}

BOOST_AUTO_TEST_CASE(appends_from_two_threads_stay_whole_lines)
{
    TempDir dir;
    SessionLog log(dir.str(), "tcpproxy", 1, 2);
    auto writer = [&](char c) {
        for (int i = 0; i < 500; ++i)
            log.append(std::string(300, c));
    };
    std::thread a(writer, 'a'), b(writer, 'b');
    a.join();
    b.join();
    std::istringstream in(slurp(log.path()));
    int lines = 0;
    for (std::string l; std::getline(in, l); ++lines)
        BOOST_TEST((l == std::string(300, 'a') || l == std::string(300, 'b')));
    BOOST_TEST(lines == 1000);
}

BOOST_AUTO_TEST_CASE(destructor_without_finish_removes_the_file)
{
    TempDir dir;
    std::string path;
    {
        SessionLog log(dir.str(), "tcpproxy", 1, 3);
        path = log.path();
        BOOST_TEST(fs::exists(path));
    }
    BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(mode_and_exit_code_decide_the_files_fate)
{
    struct Case {
        SessionMode mode;
        bool matching;
        SessionLogOutcome::Action action;
        bool file_left;
        bool handler_ran;
    };
    using A = SessionLogOutcome::Action;
    const Case cases[] = {
        {SessionMode::none, true, A::removed, false, false},
        {SessionMode::none, false, A::removed, false, false},
        {SessionMode::keep, true, A::kept, true, false},
        {SessionMode::keep, false, A::removed, false, false},
        {SessionMode::process, true, A::processed, false, true},
        {SessionMode::process, false, A::removed, false, false},
    };
    for (const auto& c : cases) {
        TempDir sessions, out;
        const fs::path rec = out.path / "run";
        const auto h = handling(c.mode, sessions.str(), status_bit(Status::access) | status_bit(Status::timeout),
                                recording_handler(rec));
        SessionLog log(sessions.str(), "tcpproxy", 77, 5);
        log.append("denied client 127.0.0.2");
        const Status status = c.matching ? Status::access : Status::ok;
        const auto outcome = log.finish(status, h, {"PROXY_STATUS=ACCESS", "PROXY_STATUSCODE=2", "X=a b"});
        const std::string what = "mode " + std::to_string(int(c.mode)) + (c.matching ? " matching" : " other");
        BOOST_TEST((outcome.action == c.action), what);
        BOOST_TEST(outcome.errors.empty(), what);
        BOOST_TEST(fs::exists(log.path()) == c.file_left, what);
        BOOST_TEST(outcome.handler.has_value() == c.handler_ran, what);
        BOOST_TEST(fs::exists(rec.string() + ".stdin") == c.handler_ran, what);
        if (c.file_left)
            BOOST_TEST(slurp(log.path()) == "denied client 127.0.0.2\n");
        if (c.handler_ran) {
            BOOST_TEST(outcome.handler->started);
            BOOST_TEST(outcome.handler->exit_code.value_or(-1) == 0);
            BOOST_TEST(slurp(rec.string() + ".stdin") == "denied client 127.0.0.2\n");
            BOOST_TEST(slurp(rec.string() + ".args") == "--flag\ntwo words\n");
            const std::string env = slurp(rec.string() + ".env");
            BOOST_TEST(env.find("PROXY_STATUS=ACCESS\n") != std::string::npos, env);
            BOOST_TEST(env.find("PROXY_STATUSCODE=2\n") != std::string::npos, env);
            BOOST_TEST(env.find("X=a b\n") != std::string::npos, env);
            BOOST_TEST(env.find("HOME=") == std::string::npos, env); // only what the caller gave
        }
    }
    BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(inactive_handling_removes_even_a_listed_status)
{
    TempDir dir;
    SessionLog log(dir.str(), "tcpproxy", 1, 4);
    auto h = handling(SessionMode::keep, "", all_statuses); // no dir: inactive
    BOOST_TEST((log.finish(Status::ok, h, {}).action == SessionLogOutcome::Action::removed));
    BOOST_TEST(entries(dir.path) == 0u);
}

BOOST_AUTO_TEST_CASE(handler_that_cannot_start_leaves_the_file)
{
    TempDir dir;
    SessionLog log(dir.str(), "tcpproxy", 1, 6);
    const auto h = handling(SessionMode::process, dir.str(), all_statuses, {"/nonexistent/handler", "x"});
    const auto outcome = log.finish(Status::client, h, {});
    BOOST_TEST((outcome.action == SessionLogOutcome::Action::kept));
    BOOST_REQUIRE(outcome.handler);
    BOOST_TEST(!outcome.handler->started);
    BOOST_TEST(outcome.handler->error == "execve(/nonexistent/handler): No such file or directory");
    BOOST_TEST(fs::exists(log.path()));
    BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(finish_runs_once)
{
    TempDir dir;
    SessionLog log(dir.str(), "tcpproxy", 1, 8);
    const auto h = handling(SessionMode::keep, dir.str(), all_statuses);
    BOOST_TEST((log.finish(Status::ok, h, {}).action == SessionLogOutcome::Action::kept));
    const auto again = log.finish(Status::ok, h, {});
    BOOST_TEST(again.errors.size() == 1u);
    BOOST_TEST(fs::exists(log.path()));
    log.append("too late"); // the kept file is evidence: nothing more goes in
    BOOST_TEST(slurp(log.path()).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exit_handler)

BOOST_AUTO_TEST_CASE(exit_status_and_stderr_are_returned)
{
    const auto run = run_script("echo first >&2; printf 'ctl\\001x\\nno newline' >&2; echo to-stdout; exit 3");
    BOOST_TEST(run.started);
    BOOST_TEST(run.exit_code.value_or(-1) == 3);
    BOOST_TEST(!run.signal);
    BOOST_TEST(!run.timed_out);
    BOOST_TEST(run.stderr_lines == (std::vector<std::string>{"first", "ctl?x", "no newline"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stderr_is_bounded)
{
    HandlerLimits limits;
    limits.max_lines = 3;
    limits.max_line_bytes = 10;
    const auto run = run_script("i=0; while [ $i -lt 50 ]; do echo 0123456789abcdef >&2; i=$((i+1)); done", limits);
    BOOST_TEST(run.exit_code.value_or(-1) == 0);
    BOOST_TEST(run.stderr_lines ==
                   (std::vector<std::string>{"0123456789", "0123456789", "0123456789", "(47 more lines not shown)"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_hanging_handler_and_its_children_are_killed_at_the_limit)
{
    HandlerLimits limits;
    limits.time = 300ms;
    const auto t0 = std::chrono::steady_clock::now();
    // The grandchild keeps stderr open; it must not hold us either.
    const auto run = run_script("echo started >&2; sleep 30 & sleep 30", limits);
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(run.started);
    BOOST_TEST(run.timed_out);
    BOOST_TEST(run.signal.value_or(0) == SIGKILL);
    BOOST_TEST((took < 5s));
    BOOST_TEST(run.stderr_lines == std::vector<std::string>{"started"}, boost::test_tools::per_element());
    BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_grandchild_holding_stderr_does_not_delay_a_finished_handler)
{
    const auto t0 = std::chrono::steady_clock::now();
    const auto run = run_script("sleep 30 2>&2 & echo done >&2; exit 0");
    BOOST_TEST(run.exit_code.value_or(-1) == 0);
    BOOST_TEST(!run.timed_out);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
    BOOST_TEST(run.stderr_lines == std::vector<std::string>{"done"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(killed_by_a_signal)
{
    const auto run = run_script("kill -TERM $$");
    BOOST_TEST(run.started);
    BOOST_TEST(!run.exit_code);
    BOOST_TEST(run.signal.value_or(0) == SIGTERM);
}

BOOST_AUTO_TEST_CASE(runs_as_the_given_identity_when_root)
{
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: identity switching not testable");
        const auto run = run_script("id -u >&2", {}, Identity{65534, 65534, "nobody"});
        BOOST_TEST(run.stderr_lines == std::vector<std::string>{std::to_string(::geteuid())},
                   boost::test_tools::per_element());
        return;
    }
    // As in the daemon started as root: the privileged spawner starts it.
    const std::string script = "id -u >&2; id -g >&2; id -G >&2";
    ThroughSpawner spawner({Identity{65534, 65533, "nobody"}}, script);
    const auto run = run_script(script, {}, Identity{65534, 65533, "nobody"}, 0);
    if (const auto why = identity_probe(65534, 65533); !why.empty()) {
        // This system cannot run anything as 65534 (seen in a freshly built
        // root as root): then the handler must not run as root instead, and
        // the failure must name the step.
        BOOST_TEST_MESSAGE("uid 65534 cannot run /bin/sh here (" << why << "): checking the error report only");
        if (run.started) { // exec worked, the shell itself could not start
            BOOST_TEST(run.exit_code.value_or(0) != 0);
        } else {
            BOOST_TEST((run.error.starts_with("set") || run.error.starts_with("execve(/bin/sh)")), run.error);
        }
        return;
    }
    BOOST_TEST(run.exit_code.value_or(-1) == 0, "error: " << run.error);
    BOOST_TEST(run.stderr_lines == (std::vector<std::string>{"65534", "65533", "65533"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_program_the_spawner_refuses_is_not_run_by_us_instead)
{
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: no privileged spawner to ask");
        return;
    }
    ThroughSpawner spawner({Identity{65534, 65533, "nobody"}}, "id -u >&2");
    for (const auto& service : {std::optional<std::uint32_t>{}, std::optional<std::uint32_t>{1}}) {
        // No service named, or one the configuration does not have.
        const auto run = run_script("id -u >&2", {}, Identity{0, 0, "root"}, service);
        BOOST_TEST(!run.started);
        BOOST_TEST(run.error.find("not allowed") != std::string::npos, run.error);
        BOOST_TEST(run.stderr_lines.empty());
    }
}

// The time limit ends the handler's whole process group, whoever started it.
const std::string background_sleeper = "sleep 30 & echo $! >&2; sleep 30";

void check_group_killed_at_the_limit(std::optional<std::uint32_t> service)
{
    HandlerLimits limits;
    limits.time = 300ms;
    const auto t0 = std::chrono::steady_clock::now();
    const auto run = run_script(background_sleeper, limits, Identity{65534, 65534, "nobody"}, service);
    BOOST_TEST(run.started, run.error);
    BOOST_TEST(run.timed_out);
    BOOST_TEST(run.signal.value_or(0) == SIGKILL);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    BOOST_REQUIRE_EQUAL(run.stderr_lines.size(), 1u);
    const pid_t grandchild = std::stoi(run.stderr_lines.front());
    BOOST_TEST(process_ends(grandchild), "the handler's background child " << grandchild << " still runs");
}

BOOST_AUTO_TEST_CASE(the_limit_kills_the_process_group_started_directly)
{
    check_group_killed_at_the_limit(std::nullopt);
    BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(the_limit_kills_the_process_group_started_by_the_spawner)
{
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: no privileged spawner");
        return;
    }
    {
        ThroughSpawner spawner({Identity{65534, 65534, "nobody"}}, background_sleeper);
        check_group_killed_at_the_limit(0);
    }
    BOOST_TEST(no_children_left()); // the spawner itself is reaped too
}

BOOST_AUTO_TEST_CASE(no_descriptor_leaks_into_the_handler)
{
    // A descriptor someone opened without O_CLOEXEC, at a number ls would not reuse.
    BOOST_REQUIRE_EQUAL(::dup2(2, 100), 100);
    const auto run = run_script("ls /proc/self/fd >&2");
    ::close(100);
    // 0, 1, 2 and the descriptor ls itself opens for /proc/self/fd.
    BOOST_TEST(run.stderr_lines.size() == 4u);
    for (const auto& l : run.stderr_lines)
        BOOST_TEST(l != "100");
}

BOOST_AUTO_TEST_CASE(empty_argv_is_an_error)
{
    const auto run = run_exit_handler({}, 0, {}, std::nullopt);
    BOOST_TEST(!run.started);
    BOOST_TEST(!run.error.empty());
}

// The exit handler reads the descriptor made with O_EXCL: a FIFO put at the
// path before the session ends is never opened (an open() of it would block
// the exit handler thread, and shutdown with it, until someone writes).
namespace {

// Waits up to 10 s for `done`; a FIFO still blocking it then is given a
// writer, so the test fails instead of hanging.
template <class T>
T within_10s(std::future<T>& done, const std::string& fifo, const char* what)
{
    if (done.wait_for(10s) != std::future_status::ready) {
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (w >= 0)
            ::close(w);
        BOOST_ERROR(what);
    }
    return done.get();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_fifo_swapped_in_is_never_opened_the_handler_reads_the_real_file)
{
    TempDir sessions, out;
    const fs::path rec = out.path / "run";
    const auto h = handling(SessionMode::process, sessions.str(), all_statuses, recording_handler(rec));
    SessionLog log(sessions.str(), "tcpproxy", 1, 10);
    log.append("the real content");
    fs::remove(log.path());
    BOOST_REQUIRE(::mkfifo(log.path().c_str(), 0600) == 0);
    auto done = std::async(std::launch::async, [&] { return log.finish(Status::ok, h, {}); });
    const auto outcome = within_10s(done, log.path(), "finish() blocked on the FIFO at the logfile's path");
    BOOST_TEST((outcome.action == SessionLogOutcome::Action::processed));
    BOOST_REQUIRE(outcome.handler);
    BOOST_TEST(outcome.handler->exit_code.value_or(-1) == 0);
    BOOST_TEST(slurp(rec.string() + ".stdin") == "the real content\n");
    BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(pool_drains_promptly_with_a_fifo_at_the_logfiles_path)
{
    TempDir sessions, out;
    const fs::path rec = out.path / "run";
    ExitJob job;
    job.log = std::make_shared<SessionLog>(sessions.str(), "tcpproxy", 1, 11);
    job.log->append("the real content");
    job.status = Status::ok;
    job.handling = handling(SessionMode::process, sessions.str(), all_statuses, recording_handler(rec));
    const std::string path = job.log->path();
    fs::remove(path);
    BOOST_REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    ExitHandlerPool pool(4, 10);
    pool.submit(std::move(job));
    auto drained = std::async(std::launch::async, [&] { pool.drain(); });
    within_10s(drained, path, "drain() waited for a thread blocked on the FIFO");
    BOOST_TEST(slurp(rec.string() + ".stdin") == "the real content\n");
}

BOOST_AUTO_TEST_SUITE_END()
