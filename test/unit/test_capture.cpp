// Traffic capture (§4.8): record format, reader, writer, `--decode`.
#include "tcpproxy/report/capture.hpp"
#include "tcpproxy/report/tools.hpp"

#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

using namespace tcpproxy;
using tcpproxy::test::slurp;
using tcpproxy::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string random_bytes(std::mt19937& rng, std::size_t n)
{
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng() & 0xff);
    return s;
}

// Feeds `data` to the writer in random-sized chunks, as a copy thread would.
void feed(CaptureWriter& w, Direction d, const std::string& data, unsigned seed)
{
    std::mt19937 rng(seed);
    std::size_t pos = 0;
    while (pos < data.size()) {
        const std::size_t n = std::min<std::size_t>(data.size() - pos, 1 + rng() % 20000);
        w.record(d, data.data() + pos, n);
        pos += n;
    }
}

struct Parsed {
    std::string streams[2];
    std::uint64_t dropped[2] = {0, 0};
    std::vector<CaptureRecord> records;
    std::string error;
};

Parsed parse(const std::string& file_content)
{
    Parsed p;
    std::istringstream in(file_content);
    CaptureReader reader(in);
    while (auto r = reader.next()) {
        const int i = r->direction == Direction::client_to_server ? 0 : 1;
        if (r->drop)
            p.dropped[i] += r->length;
        else
            p.streams[i] += r->bytes;
        p.records.push_back(std::move(*r));
    }
    p.error = reader.error();
    return p;
}

mode_t mode_of(const fs::path& p)
{
    struct stat st {};
    BOOST_REQUIRE_EQUAL(::lstat(p.c_str(), &st), 0);
    return st.st_mode;
}

} // namespace

BOOST_AUTO_TEST_SUITE(capture_format)

BOOST_AUTO_TEST_CASE(headers)
{
    BOOST_TEST(capture_data_header(Direction::client_to_server, {1700000000, 123}, 42).view() ==
               "C2S 1700000000.000123 42\n");
    BOOST_TEST(capture_data_header(Direction::server_to_client, {0, 999999}, 0).view() == "S2C 0.999999 0\n");
    BOOST_TEST(capture_drop_header(Direction::server_to_client, {1700000000, 5}, 4096).view() ==
               "DROP S2C 1700000000.000005 4096\n");
    BOOST_TEST(capture_file_path("/var/log/cap", 77, 3) == "/var/log/cap.77.3.log");
}

BOOST_AUTO_TEST_CASE(reads_records)
{
    const std::string file = std::string("C2S 1700000000.000001 5\nhel\nl\n") +
                             std::string("S2C 1700000000.500000 3\n\0\n\xff\n", 28) +
                             "DROP C2S 1700000001.000000 1000\n" + "C2S 1700000002.000000 0\n\n";
    const auto p = parse(file);
    BOOST_TEST(p.error.empty(), p.error);
    BOOST_REQUIRE_EQUAL(p.records.size(), 4u);
    BOOST_TEST(p.records[0].bytes == "hel\nl");
    BOOST_TEST(p.records[0].offset == 0u);
    BOOST_TEST((p.records[1].time == CaptureTime{1700000000, 500000}));
    BOOST_TEST(p.records[1].bytes == std::string("\0\n\xff", 3));
    BOOST_TEST(p.records[2].drop);
    BOOST_TEST(p.records[2].length == 1000u);
    BOOST_TEST(p.records[3].bytes.empty());
    BOOST_TEST(p.dropped[0] == 1000u);
}

BOOST_AUTO_TEST_CASE(empty_file_is_an_empty_capture)
{
    const auto p = parse("");
    BOOST_TEST(p.records.empty());
    BOOST_TEST(p.error.empty());
}

BOOST_AUTO_TEST_CASE(malformed_input_names_the_offset)
{
    struct Case {
        std::string text;
        std::size_t good_records;
        std::string error_start;
    };
    const std::string one = "C2S 1.000000 2\nab\n"; // 18 bytes
    const std::vector<Case> cases{
        {one + "S2C 1.000000 10\nabc", 1,
         "byte offset 18: truncated record: its header announces 10 bytes, the file ends after 3"},
        {one + "S2C 1.0000", 1, "byte offset 18: truncated record header"},
        {one + "S2C 1.000000 2\nabX", 1, "byte offset 35: expected a newline"},
        {one + "S2C 1.000000 2\nab", 1, "byte offset 35: truncated record: the file ends before the newline"},
        {one + "XYZ 1.000000 2\nab\n", 1, "byte offset 18: unknown record type"},
        {one + "C2S 1.00000 2\nab\n", 1, "byte offset 18: malformed time"},
        {one + "C2S 1.000000 -2\nab\n", 1, "byte offset 18: malformed length"},
        {one + "C2S 1.000000 2 extra\nab\n", 1, "byte offset 18: malformed record header"},
        {one + "C2S 1.000000 99999999999\n", 1, "byte offset 18: record length 99999999999 exceeds"},
        {one + "C2S 1.000000 2\x01\nab\n", 1, "byte offset 32: unexpected byte"},
        {std::string(200, 'A'), 0, "byte offset 0: record header longer than"},
        {"\x7f"
         "ELF\x02\x01",
         0, "byte offset 0: unexpected byte"},
    };
    for (const auto& c : cases) {
        const auto p = parse(c.text);
        BOOST_TEST(p.records.size() == c.good_records, c.error_start);
        BOOST_TEST(p.error.starts_with(c.error_start), "got \"" << p.error << "\" want \"" << c.error_start << "\"");
    }
}

BOOST_AUTO_TEST_CASE(hex_dump_matches_hexdump_c)
{
    BOOST_TEST(hex_dump("hello\n", 0) == "00000000  68 65 6c 6c 6f 0a                                 |hello.|\n");
    const std::string bytes = std::string("C2S-abc\nABCDEFGHIJKLMNOPQRSTUVWX") + std::string("\x00\x01\xff", 3);
    BOOST_TEST(hex_dump(bytes, 0) == "00000000  43 32 53 2d 61 62 63 0a  41 42 43 44 45 46 47 48  |C2S-abc.ABCDEFGH|\n"
                                     "00000010  49 4a 4b 4c 4d 4e 4f 50  51 52 53 54 55 56 57 58  |IJKLMNOPQRSTUVWX|\n"
                                     "00000020  00 01 ff                                          |...|\n");
    BOOST_TEST(hex_dump("x", 0x1234).starts_with("00001234  78 "));
    BOOST_TEST(hex_dump("", 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(capture_writer)

BOOST_AUTO_TEST_CASE(round_trip_both_directions_from_two_threads)
{
    TempDir dir;
    std::mt19937 rng(12345);
    const std::string up = random_bytes(rng, 3 * 1024 * 1024 + 17);
    const std::string down = random_bytes(rng, 2 * 1024 * 1024 + 5);
    const std::string path = capture_file_path((dir.path / "traffic").string(), 42, 7);
    {
        // A buffer large enough that nothing is dropped even if the disk lags.
        CaptureWriter w(path, 16 * 1024 * 1024);
        std::thread t1([&] { feed(w, Direction::client_to_server, up, 1); });
        std::thread t2([&] { feed(w, Direction::server_to_client, down, 2); });
        t1.join();
        t2.join();
        w.close();
        BOOST_TEST(w.dropped_bytes() == 0u);
        BOOST_TEST(w.error().empty(), w.error());
    }
    BOOST_TEST((mode_of(path) & 07777) == 0600u);
    const auto p = parse(slurp(path));
    BOOST_TEST(p.error.empty(), p.error);
    BOOST_TEST(p.streams[0].size() == up.size());
    BOOST_TEST((p.streams[0] == up));
    BOOST_TEST((p.streams[1] == down));
    for (const auto& r : p.records)
        BOOST_TEST(r.length <= capture_max_record_bytes);
}

BOOST_AUTO_TEST_CASE(appends_and_fixes_the_mode_of_an_existing_file)
{
    TempDir dir;
    const fs::path path = dir.path / "cap.1.1.log";
    {
        std::ofstream(path) << "C2S 1.000000 2\nab\n";
    }
    ::chmod(path.c_str(), 0644);
    {
        CaptureWriter w(path.string());
        w.record(Direction::server_to_client, "xyz", 3);
    }
    BOOST_TEST((mode_of(path) & 07777) == 0600u);
    const auto p = parse(slurp(path));
    BOOST_TEST(p.error.empty());
    BOOST_TEST(p.streams[0] == "ab");
    BOOST_TEST(p.streams[1] == "xyz");
}

BOOST_AUTO_TEST_CASE(refuses_symlinks_fifos_and_hard_links)
{
    TempDir dir;
    const fs::path target = dir.path / "victim";
    {
        std::ofstream(target) << "precious\n";
    }
    fs::create_symlink(target, dir.path / "link.log");
    BOOST_CHECK_THROW(CaptureWriter((dir.path / "link.log").string()), std::system_error);
    BOOST_TEST(slurp(target) == "precious\n");

    BOOST_REQUIRE_EQUAL(::mkfifo((dir.path / "fifo.log").c_str(), 0600), 0);
    BOOST_CHECK_THROW(CaptureWriter((dir.path / "fifo.log").string()), std::runtime_error);

    fs::create_hard_link(target, dir.path / "hard.log");
    BOOST_CHECK_THROW(CaptureWriter((dir.path / "hard.log").string()), std::runtime_error);
    BOOST_TEST(slurp(target) == "precious\n");
    BOOST_TEST((mode_of(target) & 07777) != 0600u); // not chmod-ed either
}

BOOST_AUTO_TEST_CASE(a_stalled_disk_drops_with_markers_instead_of_blocking)
{
    int fds[2];
    BOOST_REQUIRE_EQUAL(::pipe2(fds, O_CLOEXEC), 0);
    ::fcntl(fds[1], F_SETPIPE_SZ, 4096);
    constexpr std::size_t limit = 64 * 1024;
    CaptureWriter w(fds[1], "pipe", limit);

    // Nobody reads the pipe yet: the writer thread blocks in write(2), and
    // record() must keep returning. 3 MiB each way is far beyond the limit.
    std::mt19937 rng(7);
    const std::string up = random_bytes(rng, 3 * 1024 * 1024);
    const std::string down = random_bytes(rng, 3 * 1024 * 1024);
    const auto t0 = std::chrono::steady_clock::now();
    std::thread t1([&] { feed(w, Direction::client_to_server, up, 3); });
    std::thread t2([&] { feed(w, Direction::server_to_client, down, 4); });
    t1.join();
    t2.join();
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)));
    BOOST_TEST(w.dropped_bytes() > up.size());

    std::string got;
    std::thread reader([&] {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
            got.append(buf, static_cast<std::size_t>(n));
    });
    w.close();
    reader.join();
    ::close(fds[0]);

    // Each direction: data records and DROP records together account for
    // every byte, and every captured byte sits where it was in the stream.
    std::uint64_t pos[2] = {0, 0};
    std::uint64_t dropped = 0;
    const std::string* original[2] = {&up, &down};
    std::istringstream in(got);
    CaptureReader reader_(in);
    std::size_t drops = 0;
    while (auto r = reader_.next()) {
        const int i = r->direction == Direction::client_to_server ? 0 : 1;
        if (r->drop) {
            ++drops;
            dropped += r->length;
        } else {
            BOOST_REQUIRE(pos[i] + r->length <= original[i]->size());
            BOOST_TEST((original[i]->compare(pos[i], r->length, r->bytes) == 0));
        }
        pos[i] += r->length;
    }
    BOOST_TEST(reader_.error().empty(), reader_.error());
    BOOST_TEST(pos[0] == up.size());
    BOOST_TEST(pos[1] == down.size());
    BOOST_TEST(dropped == w.dropped_bytes());
    BOOST_TEST(drops >= 2u);
}

BOOST_AUTO_TEST_CASE(a_write_error_ends_the_capture_and_is_reported)
{
    int fds[2];
    BOOST_REQUIRE_EQUAL(::pipe2(fds, O_CLOEXEC), 0);
    ::close(fds[0]); // writing now fails with EPIPE (SIGPIPE is ignored for the test)
    struct sigaction ign {
    }, old{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    {
        CaptureWriter w(fds[1], "pipe", 1024 * 1024);
        w.record(Direction::client_to_server, "abc", 3);
        w.close();
        BOOST_TEST(w.error() == "write(pipe): Broken pipe");
        w.record(Direction::client_to_server, "def", 3); // after close: counted, not queued
        BOOST_TEST(w.dropped_bytes() == 3u);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(decode)

BOOST_AUTO_TEST_CASE(restores_both_streams_byte_exactly)
{
    TempDir dir;
    std::mt19937 rng(99);
    const std::string up = random_bytes(rng, 300000);
    const std::string down = random_bytes(rng, 200001);
    const std::string path = capture_file_path((dir.path / "cap").string(), 1, 1);
    {
        CaptureWriter w(path, 16 * 1024 * 1024);
        feed(w, Direction::client_to_server, up.substr(0, 1000), 5);
        feed(w, Direction::server_to_client, down, 6);
        feed(w, Direction::client_to_server, up.substr(1000), 7);
    }
    const auto c_out = (dir.path / "client.bin").string();
    const auto s_out = (dir.path / "server.bin").string();
    std::ostringstream out, err;
    BOOST_TEST(decode_command(path, c_out, s_out, out, err) == 0);
    BOOST_TEST(err.str().empty(), err.str());
    BOOST_TEST((slurp(c_out) == up));
    BOOST_TEST((slurp(s_out) == down));
    const std::string text = out.str();
    BOOST_TEST(text.find("C2S ") == 0u);
    BOOST_TEST(text.find("client->server 300000 bytes") == std::string::npos); // chunked records
    BOOST_TEST(text.find("total client->server: 300000 bytes in ") != std::string::npos);
    BOOST_TEST(text.find("total server->client: 200001 bytes in ") != std::string::npos);
    BOOST_TEST(text.find(hex_dump(up.substr(0, 16), 0)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(truncated_file_prints_what_it_can_then_the_offset)
{
    TempDir dir;
    const fs::path path = dir.path / "cut.log";
    {
        std::ofstream(path, std::ios::binary) << "C2S 1700000000.000000 6\nhello\n\nS2C 1700000000.000001 100\nshort";
    }
    std::ostringstream out, err;
    BOOST_TEST(decode_command(path.string(), std::nullopt, std::nullopt, out, err) == 1);
    BOOST_TEST(out.str().find("|hello.|") != std::string::npos);
    BOOST_TEST(err.str().find("byte offset 31: truncated record") != std::string::npos, err.str());
}

BOOST_AUTO_TEST_CASE(drops_are_shown_and_warned_about)
{
    TempDir dir;
    const fs::path path = dir.path / "drop.log";
    {
        std::ofstream(path, std::ios::binary) << "C2S 1.000000 1\na\nDROP C2S 2.000000 500\nC2S 3.000000 1\nb\n";
    }
    const auto c_out = (dir.path / "c.bin").string();
    std::ostringstream out, err;
    BOOST_TEST(decode_command(path.string(), c_out, std::nullopt, out, err) == 0);
    BOOST_TEST(slurp(c_out) == "ab");
    BOOST_TEST(out.str().find("500 bytes not captured") != std::string::npos);
    BOOST_TEST(err.str().find("warning: 500 client->server bytes were not captured") != std::string::npos, err.str());
}

BOOST_AUTO_TEST_CASE(missing_file_and_unwritable_output_are_errors)
{
    std::ostringstream out, err;
    BOOST_TEST(decode_command("/nonexistent/cap.log", std::nullopt, std::nullopt, out, err) == 1);
    BOOST_TEST(err.str() == "tcpproxy: --decode: open(/nonexistent/cap.log): No such file or directory\n");

    TempDir dir;
    const fs::path path = dir.path / "ok.log";
    {
        std::ofstream(path, std::ios::binary) << "C2S 1.000000 1\na\n";
    }
    std::ostringstream out2, err2;
    BOOST_TEST(decode_command(path.string(), std::string("/nonexistent/out"), std::nullopt, out2, err2) == 1);
    BOOST_TEST(err2.str().find("open(/nonexistent/out): No such file or directory") != std::string::npos, err2.str());
}

BOOST_AUTO_TEST_SUITE_END()
