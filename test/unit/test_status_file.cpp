// Status files (§4.6) and the `--status` table.
#include "tcpproxy/report/status_file.hpp"
#include "tcpproxy/report/tools.hpp"

#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace tcpproxy;
using tcpproxy::test::slurp;
using tcpproxy::test::TempDir;
namespace fs = std::filesystem;

namespace {

Endpoint ep(const char* ip, std::uint16_t port) { return Endpoint{*IpAddress::parse(ip), port}; }

StatusLine sample()
{
    StatusLine l;
    l.logname = "tcpproxy";
    l.pid = 4242;
    l.started = 1700000000;
    l.interface = ep("127.0.0.1", 2525);
    l.client = *IpAddress::parse("127.0.0.2");
    l.client_name = "client.example";
    return l;
}

// A PID that belonged to a process that has ended and been reaped.
pid_t dead_pid()
{
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0)
        ::_exit(0);
    int st = 0;
    BOOST_REQUIRE_EQUAL(::waitpid(pid, &st, 0), pid);
    return pid;
}

mode_t mode_of(const fs::path& p)
{
    struct stat st {};
    BOOST_REQUIRE_EQUAL(::lstat(p.c_str(), &st), 0);
    return st.st_mode;
}

struct Umask {
    mode_t old;
    explicit Umask(mode_t m) : old(::umask(m)) {}
    ~Umask() { ::umask(old); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(status_line)

BOOST_AUTO_TEST_CASE(format_before_connect)
{
    BOOST_TEST(format_status_line(sample()) ==
               "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2 client.example - -\n");
}

BOOST_AUTO_TEST_CASE(format_connected_redirected_v6)
{
    auto l = sample();
    l.interface = ep("::1", 25);
    l.client = *IpAddress::parse("::1");
    l.server = ep("2001:db8::1", 2525);
    l.origdst = ep("192.0.2.7", 80);
    BOOST_TEST(format_status_line(l) ==
               "tcpproxy tcpproxy 4242 1700000000 [::1]:25 ::1 client.example [2001:db8::1]:2525 192.0.2.7:80\n");
}

BOOST_AUTO_TEST_CASE(unclean_client_name_becomes_ip)
{
    for (const char* bad : {"two words", "tab\there", "nl\nx", "", "del\x7f"}) {
        auto l = sample();
        l.client_name = bad;
        BOOST_TEST(format_status_line(l) ==
                   "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2 127.0.0.2 - -\n");
    }
}

BOOST_AUTO_TEST_CASE(unclean_logname_is_one_field)
{
    auto l = sample();
    l.logname = "my proxy/x";
    BOOST_TEST(format_status_line(l).starts_with("tcpproxy my_proxy_x 4242 "));
    BOOST_TEST(status_file_name("my proxy/x", 7, 3) == "my_proxy_x.7.3");
}

BOOST_AUTO_TEST_CASE(parse_round_trip)
{
    auto l = sample();
    l.server = ep("10.1.2.3", 25);
    l.origdst = ep("::ffff:1.2.3.4", 80);
    const auto parsed = parse_status_line(format_status_line(l));
    BOOST_REQUIRE_MESSAGE(parsed, parsed.error().message);
    BOOST_TEST((*parsed == l));

    auto v6 = sample();
    v6.interface = ep("::1", 9);
    v6.client = *IpAddress::parse("fe80::1");
    const auto p6 = parse_status_line(format_status_line(v6));
    BOOST_REQUIRE_MESSAGE(p6, p6.error().message);
    BOOST_TEST((*p6 == v6));
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed)
{
    const char* bad[] = {
        "",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2 name -",     // 8 fields
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2 name - - x", // 10 fields
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2  - -",       // empty field
        "otherprog tcpproxy 4242 1700000000 127.0.0.1:2525 127.0.0.2 name - -",
        "tcpproxy tcpproxy -42 1700000000 127.0.0.1:2525 127.0.0.2 name - -",
        "tcpproxy tcpproxy 0 1700000000 127.0.0.1:2525 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 soon 127.0.0.1:2525 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 1700000000 - 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:0 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:70000 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 1700000000 ::1:25 127.0.0.2 name - -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:25 127.0.0 name - -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:25 127.0.0.2 name host:25 -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:25 127.0.0.2 name - 1.2.3.4",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:25 127.0.0.2 na\x01me - -",
        "tcpproxy tcpproxy 4242 1700000000 127.0.0.1:25 127.0.0.2 name - -\n\n",
    };
    for (const char* text : bad) {
        const auto p = parse_status_line(text);
        BOOST_REQUIRE_MESSAGE(!p, "accepted: " << text);
        BOOST_TEST(!p.error().message.empty());
    }
}

BOOST_AUTO_TEST_CASE(file_names)
{
    auto n = parse_status_file_name("tcpproxy.123.7");
    BOOST_REQUIRE(n);
    BOOST_TEST(n->logname == "tcpproxy");
    BOOST_TEST(n->pid == 123);
    BOOST_TEST(n->session == "7");
    n = parse_status_file_name("my.proxy.123.7");
    BOOST_REQUIRE(n);
    BOOST_TEST(n->logname == "my.proxy");
    for (const char* bad :
         {".tcpproxy.1.2.tmp", "tcpproxy.1", "tcpproxy.x.2", "tcpproxy.1.", ".1.2", "README", "a.0.1"})
        BOOST_TEST(!parse_status_file_name(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_file)

BOOST_AUTO_TEST_CASE(written_updated_removed)
{
    TempDir dir;
    Umask strict(077); // the file must still be 0644
    const fs::path path = dir.path / "tcpproxy.4242.17";
    {
        StatusFile f(dir.str(), 17, sample());
        BOOST_TEST(f.path() == path.string());
        BOOST_TEST(slurp(path) == format_status_line(sample()));
        BOOST_TEST((mode_of(path) & 07777) == 0644u);
        BOOST_TEST(S_ISREG(mode_of(path)));

        f.update_server(ep("127.0.0.1", 8025));
        auto expected = sample();
        expected.server = ep("127.0.0.1", 8025);
        BOOST_TEST(slurp(path) == format_status_line(expected));
        BOOST_TEST((mode_of(path) & 07777) == 0644u);
        // Nothing but the file itself is left in the directory.
        BOOST_TEST(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
    }
    BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(explicit_remove_is_idempotent)
{
    TempDir dir;
    StatusFile f(dir.str(), 1, sample());
    BOOST_TEST(f.remove().empty());
    BOOST_TEST(!fs::exists(f.path()));
    BOOST_TEST(f.remove().empty());
    f.update_server(ep("127.0.0.1", 1)); // after removal: not recreated
    BOOST_TEST(!fs::exists(f.path()));
}

BOOST_AUTO_TEST_CASE(readers_never_see_a_partial_line)
{
    TempDir dir;
    StatusFile f(dir.str(), 5, sample());
    std::atomic<bool> done{false};
    std::atomic<int> bad{0}, reads{0};
    std::thread reader([&] {
        while (!done) {
            const std::string s = slurp(f.path());
            ++reads;
            if (!parse_status_line(s) || s.back() != '\n')
                ++bad;
        }
    });
    for (int i = 0; i < 2000; ++i)
        f.update_server(ep("127.0.0.1", static_cast<std::uint16_t>(1 + i % 2 * 60000)));
    done = true;
    reader.join();
    BOOST_TEST(bad == 0);
    BOOST_TEST(reads > 0);
}

BOOST_AUTO_TEST_CASE(planted_symlinks_are_not_followed)
{
    TempDir dir;
    const fs::path target = dir.path / "victim";
    {
        std::ofstream(target) << "precious\n";
    }
    fs::create_symlink(target, dir.path / "tcpproxy.4242.9");
    fs::create_symlink(target, dir.path / ".tcpproxy.4242.9.tmp");
    {
        StatusFile f(dir.str(), 9, sample());
        BOOST_TEST(S_ISREG(mode_of(f.path())));
        BOOST_TEST(slurp(f.path()) == format_status_line(sample()));
        f.update_server(ep("127.0.0.1", 25));
        BOOST_TEST(S_ISREG(mode_of(f.path())));
    }
    BOOST_TEST(slurp(target) == "precious\n");
    BOOST_TEST(S_ISREG(mode_of(target)));
}

BOOST_AUTO_TEST_CASE(unwritable_directory_throws_with_call_and_errno)
{
    try {
        StatusFile f("/nonexistent-dir-for-tcpproxy", 1, sample());
        BOOST_FAIL("no exception");
    } catch (const std::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("open(/nonexistent-dir-for-tcpproxy/.tcpproxy.4242.1.tmp)") !=
                       std::string::npos,
                   e.what());
        BOOST_TEST(std::string(e.what()).find("No such file or directory") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(stale_files_of_dead_processes_are_removed)
{
    TempDir dir;
    const pid_t dead = dead_pid();
    const auto d = std::to_string(dead);
    const auto me = std::to_string(::getpid());
    const std::vector<std::string> names{
        "tcpproxy." + d + ".1", ".tcpproxy." + d + ".2.tmp", "tcpproxy." + me + ".3", "other." + d + ".4", "README",
        "tcpproxy.1.5"};
    for (const auto& name : names)
        std::ofstream(dir.path / name) << "x\n";

    auto r = remove_stale_status_files(dir.str(), std::string("tcpproxy"));
    BOOST_TEST(r.errors.empty());
    std::sort(r.removed.begin(), r.removed.end());
    BOOST_TEST(r.removed == (std::vector<std::string>{".tcpproxy." + d + ".2.tmp", "tcpproxy." + d + ".1"}),
               boost::test_tools::per_element());
    BOOST_TEST(fs::exists(dir.path / ("tcpproxy." + me + ".3"))); // running
    BOOST_TEST(fs::exists(dir.path / "tcpproxy.1.5"));            // init is running
    BOOST_TEST(fs::exists(dir.path / ("other." + d + ".4")));     // other logname
    BOOST_TEST(fs::exists(dir.path / "README"));                  // not a status file

    r = remove_stale_status_files(dir.str());
    BOOST_TEST(r.removed == std::vector<std::string>{"other." + d + ".4"}, boost::test_tools::per_element());

    r = remove_stale_status_files((dir.path / "missing").string());
    BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
    BOOST_TEST(r.errors[0].find("open(") == 0);
    BOOST_TEST(r.errors[0].find("No such file or directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(stale_sweep_never_follows_a_link_nor_touches_what_is_not_ours)
{
    TempDir dir, elsewhere;
    const auto d = std::to_string(dead_pid());
    std::ofstream(elsewhere.path / ("tcpproxy." + d + ".1")) << "x\n";
    fs::create_directory_symlink(elsewhere.path, dir.path / "statdir");
    auto r = remove_stale_status_files((dir.path / "statdir").string());
    BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
    BOOST_TEST(r.errors[0].find("not a directory") != std::string::npos, r.errors[0]);
    BOOST_TEST(fs::exists(elsewhere.path / ("tcpproxy." + d + ".1")));

    // A symbolic link, a directory and (as root) another user's file named like stale status files stay.
    fs::create_symlink(elsewhere.path / ("tcpproxy." + d + ".1"), dir.path / ("tcpproxy." + d + ".2"));
    fs::create_directory(dir.path / ("tcpproxy." + d + ".3"));
    std::ofstream(dir.path / ("tcpproxy." + d + ".4")) << "x\n";
    const bool root = ::geteuid() == 0;
    if (root)
        BOOST_REQUIRE_EQUAL(::chown((dir.path / ("tcpproxy." + d + ".4")).c_str(), 65534, 65534), 0);
    r = remove_stale_status_files(dir.str());
    BOOST_TEST(r.errors.empty());
    BOOST_TEST(fs::is_symlink(dir.path / ("tcpproxy." + d + ".2")));
    BOOST_TEST(fs::exists(dir.path / ("tcpproxy." + d + ".3")));
    BOOST_TEST(fs::exists(dir.path / ("tcpproxy." + d + ".4")) == root);
    BOOST_TEST(fs::exists(elsewhere.path / ("tcpproxy." + d + ".1")));

    // A directory anyone may write to (not sticky) is not swept.
    fs::permissions(dir.path, fs::perms::all);
    r = remove_stale_status_files(dir.str());
    BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
    BOOST_TEST(r.errors[0].find("writable by everyone") != std::string::npos, r.errors[0]);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_table)

BOOST_AUTO_TEST_CASE(ages)
{
    BOOST_TEST(format_age(-5) == "0s");
    BOOST_TEST(format_age(45) == "45s");
    BOOST_TEST(format_age(723) == "12m03s");
    BOOST_TEST(format_age(3 * 3600 + 4 * 60 + 59) == "3h04m");
    BOOST_TEST(format_age(2 * 86400 + 5 * 3600) == "2d05h");
}

BOOST_AUTO_TEST_CASE(table_is_aligned_and_ordered)
{
    auto older = sample();
    older.started -= 100;
    older.client_name = "127.0.0.2";
    older.server = ep("10.0.0.1", 25);
    auto newer = sample();
    newer.client = *IpAddress::parse("2001:db8::42");
    newer.origdst = ep("192.0.2.1", 80);
    const std::string table = render_status_table({{newer, "12"}, {older, "3"}}, sample().started + 5);

    std::vector<std::string> lines;
    std::istringstream in(table);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    BOOST_REQUIRE_EQUAL(lines.size(), 3u);
    BOOST_TEST(lines[0].starts_with("CLIENT"));
    BOOST_TEST(lines[1].starts_with("127.0.0.2 ")); // older first; name == IP shown once
    BOOST_TEST(lines[2].starts_with("2001:db8::42 (client.example)"));
    // Every column starts at the same offset in every line.
    for (const char* head : {"INTERFACE", "SERVER", "STARTED", "AGE", "ORIGDST", "LOGNAME", "PID/SESSION"}) {
        const auto col = lines[0].find(head);
        BOOST_REQUIRE(col != std::string::npos);
        for (std::size_t i = 1; i < lines.size(); ++i) {
            BOOST_TEST(lines[i][col - 1] == ' ', head << " in line " << i);
            BOOST_TEST(lines[i][col] != ' ', head << " in line " << i);
        }
    }
    BOOST_TEST(lines[1].find("10.0.0.1:25") != std::string::npos);
    BOOST_TEST(lines[1].find("1m45s") != std::string::npos);
    BOOST_TEST(lines[1].ends_with("4242/3"));
    BOOST_TEST(lines[2].find("192.0.2.1:80") != std::string::npos);
    BOOST_TEST(lines[2].find(" 5s ") != std::string::npos);
    BOOST_TEST(lines[2].ends_with("4242/12"));
}

BOOST_AUTO_TEST_CASE(command_skips_what_is_not_a_status_file)
{
    TempDir dir;
    auto gone = sample();
    gone.pid = dead_pid(); // not 4242: some process may have that pid now
    StatusFile good(dir.str(), 1, gone);
    std::ofstream(dir.path / "tcpproxy.4242.2") << "garbage\n";
    std::ofstream(dir.path / "notes.txt") << format_status_line(sample());
    std::ofstream(dir.path / "tcpproxy.999.3") << format_status_line(sample()); // pid differs from name
    std::ofstream(dir.path / "tcpproxy.4242.4") << std::string(10000, 'x');
    std::ofstream(dir.path / ".tcpproxy.4242.5.tmp") << "partial";
    BOOST_REQUIRE_EQUAL(::mkfifo((dir.path / "tcpproxy.4242.6").c_str(), 0644), 0);
    fs::create_symlink(good.path(), dir.path / "tcpproxy.4242.7");
    fs::create_directory(dir.path / "tcpproxy.4242.8");

    std::ostringstream out, err;
    BOOST_TEST(status_command(dir.str(), out, err) == 0);
    std::istringstream rows(out.str());
    std::vector<std::string> lines;
    for (std::string l; std::getline(rows, l);)
        lines.push_back(l);
    BOOST_REQUIRE_EQUAL(lines.size(), 2u);
    BOOST_TEST(lines[1].ends_with(std::to_string(gone.pid) + "/1 (gone)")); // a stale file, marked
    const std::string warnings = err.str();
    BOOST_TEST(std::count(warnings.begin(), warnings.end(), '\n') == 7, warnings);
    for (const char* name : {"tcpproxy.4242.2", "notes.txt", "tcpproxy.999.3", "tcpproxy.4242.4", "tcpproxy.4242.6",
                             "tcpproxy.4242.7", "tcpproxy.4242.8"})
        BOOST_TEST(warnings.find(std::string("skipping ") + dir.str() + "/" + name + ":") != std::string::npos, name);
}

BOOST_AUTO_TEST_CASE(command_lists_only_files_of_the_sessions_user_and_cleans_names)
{
    TempDir dir;
    auto mine = sample();
    mine.pid = ::getpid(); // alive, ours
    const auto me = std::to_string(::getpid());
    std::ofstream(dir.path / ("tcpproxy." + me + ".1")) << format_status_line(mine);
    std::ofstream(dir.path / ("tcpproxy." + me + ".2\x1b[31m")) << format_status_line(mine);
    if (::geteuid() == 0) {
        // Forged: names a live process but was written by another user.
        std::ofstream(dir.path / ("tcpproxy." + me + ".3")) << format_status_line(mine);
        BOOST_REQUIRE_EQUAL(::chown((dir.path / ("tcpproxy." + me + ".3")).c_str(), 65534, 65534), 0);
    }
    std::ostringstream out, err;
    BOOST_TEST(status_command(dir.str(), out, err) == 0);
    const std::string table = out.str();
    BOOST_TEST(table.find('\x1b') == std::string::npos);
    BOOST_TEST(table.find(me + "/1") != std::string::npos);
    BOOST_TEST(table.find(me + "/2?[31m") != std::string::npos);
    BOOST_TEST(table.find(me + "/3") == std::string::npos);
    BOOST_TEST(table.find("(gone)") == std::string::npos);
    if (::geteuid() == 0)
        BOOST_TEST(err.str().find("not by the user of process") != std::string::npos, err.str());
}

BOOST_AUTO_TEST_CASE(command_fails_on_unreadable_directory)
{
    std::ostringstream out, err;
    BOOST_TEST(status_command("/nonexistent-dir-for-tcpproxy", out, err) == 1);
    BOOST_TEST(out.str().empty());
    BOOST_TEST(err.str() == "tcpproxy: --status: opendir(/nonexistent-dir-for-tcpproxy): No such file or directory\n");
}

BOOST_AUTO_TEST_SUITE_END()
