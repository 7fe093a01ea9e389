// The log sinks' system-call economy: one write per stderr line, and the
// cached look for the syslog socket.
#include "log/path_probe.hpp"
#include "tcpproxy/log/log.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace tcpproxy;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(log_sinks)

BOOST_AUTO_TEST_CASE(stderr_line_is_one_write)
{
    // A SEQPACKET socket as stderr keeps the boundaries of each write(2):
    // every message read back must be one whole line.
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    const int saved = ::dup(STDERR_FILENO);
    BOOST_REQUIRE(saved >= 0);
    ::dup2(sv[1], STDERR_FILENO);

    log::Options o;
    o.ident = "unit";
    o.to_stderr = true;
    o.to_syslog = false;
    log::init(o);
    log::notice("first line");
    log::error("second", 7);

    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    log::init(log::Options{"unit", false, false, false}); // no sink left writing to stderr

    std::vector<std::string> messages;
    char buf[4096];
    ::close(sv[1]);
    for (;;) {
        const ssize_t n = ::recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            break;
        messages.emplace_back(buf, static_cast<std::size_t>(n));
    }
    ::close(sv[0]);
    BOOST_REQUIRE_EQUAL(messages.size(), 2u);
    const std::string prefix = "unit[" + std::to_string(::getpid()) + "]: ";
    BOOST_CHECK_EQUAL(messages[0], prefix + "notice: first line\n");
    BOOST_CHECK_EQUAL(messages[1], prefix + "error: second\n");
}

BOOST_AUTO_TEST_CASE(path_probe_looks_again_after_its_interval)
{
    const auto path = fs::temp_directory_path() / ("tcpproxy-probe-" + std::to_string(::getpid()));
    fs::remove(path);
    log::PathProbe every_time(path.string(), 0);
    log::PathProbe cached(path.string(), 3'600'000);
    BOOST_CHECK(!every_time.present());
    BOOST_CHECK(!cached.present());
    std::ofstream(path).put('x');
    BOOST_CHECK(every_time.present());
    BOOST_CHECK(!cached.present()); // within its hour: the answer it had
    fs::remove(path);
    BOOST_CHECK(!every_time.present());
}

BOOST_AUTO_TEST_SUITE_END()
