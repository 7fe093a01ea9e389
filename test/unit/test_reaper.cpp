// The end-of-session pipeline: one session's start, lines and end in order
// in its files, the exit handler after the end line, stop() draining; and the
// exit handler pool's bounds.
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/log/log.hpp"

#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

using namespace tcpproxy;
using tcpproxy::test::entries;
using tcpproxy::test::lines_of;
using tcpproxy::test::slurp;
using tcpproxy::test::TempDir;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Index of the first line holding `what`, or -1.
long find_line(const std::vector<std::string>& lines, const std::string& what)
{
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(what) != std::string::npos)
            return static_cast<long>(i);
    return -1;
}

// Session handling `process` for every status, with a handler that saves its
// stdin (the logfile) as OUT/PORT, and status files in STATDIR.
std::shared_ptr<Config> pipeline_config(const TempDir& statdir, const TempDir& sessions, const TempDir& out)
{
    auto c = std::make_shared<Config>();
    c->statdir = statdir.str();
    c->session.mode = SessionMode::process;
    c->session.dir = sessions.str();
    c->session.exit_codes = all_statuses;
    c->session.exit_handler = {"/bin/sh", "-c",
                               "cat > \"$0/.$PROXY_PORT\" && mv \"$0/.$PROXY_PORT\" \"$0/$PROXY_PORT\"", out.str()};
    return c;
}

SessionRecord record(std::uint64_t id, std::shared_ptr<Config> config, std::uint16_t port)
{
    SessionRecord r;
    r.id = id;
    r.config = std::move(config);
    r.client = Endpoint{*IpAddress::parse("192.0.2.1"), 40000};
    r.local = Endpoint{*IpAddress::parse("127.0.0.1"), port};
    r.started = std::chrono::system_clock::now();
    return r;
}

std::string status_path(const TempDir& statdir, std::uint64_t id)
{
    return statdir.str() + "/" + status_file_name("tcpproxy", 4242, id);
}

// Waits (bounded) until `done` holds.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(reaper)

// Inline mode handles each event before returning: every step is observable.
BOOST_AUTO_TEST_CASE(one_sessions_start_lines_and_end_in_order)
{
    TempDir statdir("stat"), sessions("sess"), out("out");
    auto config = pipeline_config(statdir, sessions, out);
    Reaper reaper(Reaper::Mode::inline_, 4242);
    auto r = record(reaper.next_session_id(), config, 2001);

    reaper.started(r);
    // Start: logfile opened (holding the start line), status file written.
    BOOST_REQUIRE_EQUAL(entries(sessions.path), 1u);
    const auto logfile = fs::directory_iterator(sessions.path)->path();
    BOOST_TEST(slurp(logfile).find("event=start") != std::string::npos);
    BOOST_TEST(slurp(status_path(statdir, r.id)).find(" - -\n") != std::string::npos);

    log::warning("first from the session", r.id);
    log::notice("second from the session", r.id);
    log::warning("another session's line", r.id + 1);
    r.server = Endpoint{*IpAddress::parse("127.0.0.1"), 25};
    reaper.connected(r);
    BOOST_TEST(slurp(status_path(statdir, r.id)).find(" 127.0.0.1:25 -\n") != std::string::npos);

    log::warning("last from the session", r.id);
    r.status = Status::server;
    r.reason = "gone";
    reaper.submit(r);
    // End: status file removed, logfile processed (and removed) after the end line.
    BOOST_TEST(!fs::exists(status_path(statdir, r.id)));
    BOOST_TEST(entries(sessions.path) == 0u);
    const auto seen = lines_of(slurp(out.path / "2001"));
    const long start = find_line(seen, "event=start");
    const long first = find_line(seen, "warning: first from the session");
    const long second = find_line(seen, "notice: second from the session");
    const long last = find_line(seen, "warning: last from the session");
    const long end = find_line(seen, "event=end");
    BOOST_TEST(start == 0);
    BOOST_TEST((start < first && first < second && second < last && last < end));
    BOOST_TEST(end == static_cast<long>(seen.size()) - 1, "the end line is the handler's last");
    BOOST_TEST(seen.at(static_cast<std::size_t>(end)).find("status=SERVER") != std::string::npos);
    BOOST_TEST(find_line(seen, "another session's line") == -1);
}

BOOST_AUTO_TEST_CASE(lines_after_the_end_stay_out_of_the_file)
{
    TempDir statdir("stat"), sessions("sess"), out("out");
    auto config = pipeline_config(statdir, sessions, out);
    config->session.mode = SessionMode::keep;
    Reaper reaper(Reaper::Mode::inline_, 4242);
    auto r = record(reaper.next_session_id(), config, 2002);
    reaper.started(r);
    reaper.submit(r);
    log::warning("too late", r.id);
    BOOST_REQUIRE_EQUAL(entries(sessions.path), 1u);
    const auto kept = slurp(fs::directory_iterator(sessions.path)->path());
    BOOST_TEST(kept.find("event=end") != std::string::npos);
    BOOST_TEST(kept.find("too late") == std::string::npos);
    BOOST_TEST(log::take_session_lines(r.id).empty(), "nothing is kept for an ended session");
}

// Many sessions from many threads on the threaded reaper: stop() handles
// everything queued and waits for the exit handlers; each logfile is whole.
BOOST_AUTO_TEST_CASE(threaded_sessions_in_order_and_stop_drains)
{
    TempDir statdir("stat"), sessions("sess"), out("out");
    auto config = pipeline_config(statdir, sessions, out);
    constexpr int n = 12;
    {
        Reaper reaper(Reaper::Mode::threaded, 4242);
        std::vector<std::thread> threads;
        for (int i = 0; i < n; ++i) {
            threads.emplace_back([&, i] {
                auto r = record(reaper.next_session_id(), config, static_cast<std::uint16_t>(3000 + i));
                reaper.started(r);
                for (int k = 0; k < 5; ++k)
                    log::info("line " + std::to_string(k), r.id);
                reaper.connected(r);
                reaper.submit(r);
            });
        }
        for (auto& t : threads)
            t.join();
        reaper.stop();
        BOOST_TEST(entries(out.path) == static_cast<std::size_t>(n), "every handler ran before stop() returned");
        BOOST_TEST(entries(statdir.path) == 0u);
        BOOST_TEST(entries(sessions.path) == 0u);
    }
    for (int i = 0; i < n; ++i) {
        const auto seen = lines_of(slurp(out.path / std::to_string(3000 + i)));
        BOOST_REQUIRE_EQUAL(seen.size(), 7u);
        BOOST_TEST(seen.front().find("event=start") != std::string::npos);
        for (int k = 0; k < 5; ++k)
            BOOST_TEST(seen[static_cast<std::size_t>(k + 1)].find("info: line " + std::to_string(k)) !=
                       std::string::npos);
        BOOST_TEST(seen.back().find("event=end") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(stop_removes_what_sessions_that_never_ended_left)
{
    TempDir statdir("stat"), sessions("sess"), out("out");
    auto config = pipeline_config(statdir, sessions, out);
    Reaper reaper(Reaper::Mode::threaded, 4242);
    reaper.started(record(reaper.next_session_id(), config, 4000));
    reaper.stop();
    BOOST_TEST(entries(statdir.path) == 0u);
    BOOST_TEST(entries(sessions.path) == 0u);
    BOOST_TEST(entries(out.path) == 0u, "no exit handler for a session that did not end");
}

BOOST_AUTO_TEST_CASE(a_logfile_that_cannot_be_opened_does_not_stop_the_session)
{
    TempDir statdir("stat"), sessions("sess"), out("out");
    auto config = pipeline_config(statdir, sessions, out);
    Reaper reaper(Reaper::Mode::inline_, 4242);
    auto r = record(reaper.next_session_id(), config, 4001);
    // A symlink planted at the logfile's name is refused, not followed.
    const auto planted = sessions.path / (status_file_name("tcpproxy", 4242, r.id) + ".log");
    fs::create_symlink(out.path / "target", planted);
    reaper.started(r);
    BOOST_TEST(fs::exists(status_path(statdir, r.id)), "the status file is written all the same");
    reaper.submit(r);
    BOOST_TEST(!fs::exists(out.path / "target"));
    BOOST_TEST(entries(out.path) == 0u, "no logfile, no exit handler");
    BOOST_TEST(fs::is_symlink(planted));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exit_handler_pool)

namespace {

std::size_t open_descriptors() { return entries("/proc/self/fd"); }

// While it lives, lets every handler waiting to read `fifo` go: opens and
// closes its write end (ENXIO while nobody waits), so each reader sees EOF.
class FifoReleaser {
public:
    explicit FifoReleaser(const fs::path& fifo)
        : thread_([this, path = fifo.string()] {
              while (!done_) {
                  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                  if (fd >= 0)
                      ::close(fd);
                  std::this_thread::yield();
              }
          })
    {
    }
    ~FifoReleaser()
    {
        done_ = true;
        thread_.join();
    }
    FifoReleaser(const FifoReleaser&) = delete;
    FifoReleaser& operator=(const FifoReleaser&) = delete;

private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

ExitJob job_for(const TempDir& sessions, std::uint64_t id, std::vector<std::string> handler,
                std::vector<std::string> env = {"PATH=/usr/bin:/bin"})
{
    ExitJob job;
    job.log = std::make_shared<SessionLog>(sessions.str(), "tcpproxy", 4242, id);
    job.log->append("a line");
    job.status = Status::ok;
    job.handling.mode = SessionMode::process;
    job.handling.dir = sessions.str();
    job.handling.exit_codes = status_bit(Status::ok);
    job.handling.exit_handler = std::move(handler);
    job.env = std::move(env);
    job.session = id;
    return job;
}

} // namespace

// At most `threads` handlers at once: each handler records how many run
// (entries in RUN) and then waits on a FIFO that a helper keeps opening.
BOOST_AUTO_TEST_CASE(at_most_threads_handlers_at_once)
{
    TempDir sessions("sess"), dir("pool");
    const auto fifo = dir.path / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::create_directory(dir.path / "run");
    const std::string script = "d=\"$0\"; mkdir \"$d/run/$$\"; ls \"$d/run\" | wc -l >> \"$d/counts\"; "
                               "cat \"$d/fifo\" > /dev/null; rmdir \"$d/run/$$\"";
    constexpr int jobs = 6;
    {
        FifoReleaser releaser(fifo);
        ExitHandlerPool pool(2, 100);
        for (int i = 0; i < jobs; ++i)
            pool.submit(job_for(sessions, static_cast<std::uint64_t>(100 + i), {"/bin/sh", "-c", script, dir.str()}));
        pool.drain();
    }
    const auto counts = lines_of(slurp(dir.path / "counts"));
    BOOST_TEST(counts.size() == static_cast<std::size_t>(jobs));
    for (const auto& c : counts)
        BOOST_TEST(std::stoi(c) <= 2, "handlers running at once: " << c);
    BOOST_TEST(entries(sessions.path) == 0u, "every logfile processed and removed");
}

BOOST_AUTO_TEST_CASE(a_handler_past_its_time_is_killed_and_logged)
{
    TempDir sessions("sess");
    Gate unused;
    const std::uint64_t id = 200;
    log::keep_session_lines(id, unused); // what the pool logs for the session, to look at
    HandlerLimits limits;
    limits.time = 300ms;
    const auto t0 = std::chrono::steady_clock::now();
    {
        ExitHandlerPool pool(1, 10, limits);
        pool.submit(job_for(sessions, id, {"/bin/sh", "-c", "sleep 30"}));
        pool.drain();
    }
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
    const auto lines = log::take_session_lines(id, true);
    BOOST_TEST(std::any_of(lines.begin(), lines.end(), [](const log::SessionLine& l) {
        return l.text.find("killed after the time limit") != std::string::npos;
    }));
    BOOST_TEST(entries(sessions.path) == 0u);
}

BOOST_AUTO_TEST_CASE(no_descriptor_leaks_into_handlers_or_stays_behind)
{
    TempDir sessions("sess");
    Gate unused;
    const std::uint64_t id = 300;
    log::keep_session_lines(id, unused);
    const auto before = open_descriptors();
    {
        ExitHandlerPool pool(2, 10);
        pool.submit(job_for(sessions, id, {"/bin/sh", "-c", "ls /proc/self/fd >&2"}));
        pool.drain();
    }
    BOOST_TEST(open_descriptors() == before);
    const auto lines = log::take_session_lines(id, true);
    std::vector<std::string> fds;
    for (const auto& l : lines)
        // The handler's stderr lines (at info, like its "exit code 0" line): the numbers ls printed.
        if (const auto colon = l.text.rfind(": ");
            l.severity == log::Severity::info && colon != std::string::npos &&
            l.text.find_first_not_of("0123456789", colon + 2) == std::string::npos)
            fds.push_back(l.text.substr(colon + 2));
    // 0, 1, 2 and the descriptor ls itself opens for /proc/self/fd.
    BOOST_TEST(fds.size() == 4u);
    for (const auto& f : fds)
        BOOST_TEST(std::stoi(f) <= 3, "descriptor " << f << " reached the handler");
}

BOOST_AUTO_TEST_CASE(a_full_queue_keeps_the_logfile)
{
    TempDir sessions("sess"), dir("pool");
    const auto fifo = dir.path / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    {
        ExitHandlerPool pool(1, 1);
        // The first one runs (it says so) and waits on the FIFO; the second
        // one waits in the queue; the third one finds the queue full.
        const std::vector<std::string> waiting = {"/bin/sh", "-c", "touch \"$0.started\"; cat \"$0\" > /dev/null",
                                                  fifo.string()};
        pool.submit(job_for(sessions, 400, waiting));
        BOOST_REQUIRE(eventually([&] { return fs::exists(fifo.string() + ".started"); }));
        pool.submit(job_for(sessions, 401, waiting));
        pool.submit(job_for(sessions, 402, waiting));
        BOOST_TEST(fs::exists(sessions.path / (status_file_name("tcpproxy", 4242, 402) + ".log")),
                   "the job beyond the queue is not run: its logfile is kept");
        FifoReleaser releaser(fifo);
        pool.drain();
    }
    BOOST_TEST(entries(sessions.path) == 1u, "only the refused job's logfile is left");
}

BOOST_AUTO_TEST_SUITE_END()
