#include "session/upstream.hpp"
#include "tcpproxy/report/reaper.hpp"

#include <boost/test/unit_test.hpp>

using namespace tcpproxy;

namespace {
IpAddress ip(const char* t) { return *IpAddress::parse(t); }
} // namespace

BOOST_AUTO_TEST_SUITE(session_lines)

BOOST_AUTO_TEST_CASE(end_line_has_the_section_7_fields)
{
    Service s;
    s.interface.text = "*";
    SessionRecord r;
    r.id = 7;
    r.service = &s;
    r.client = Endpoint{ip("::ffff:192.0.2.7"), 40000};
    r.client_name = "evil name\n";
    r.local = Endpoint{ip("127.0.0.1"), 8080};
    r.server = Endpoint{ip("::1"), 80};
    r.outgoing = Endpoint{ip("::1"), 5555};
    r.status = Status::server;
    r.reason = "server->client: read: Connection reset by peer";
    r.bytes_client = 12;
    r.bytes_server = 34;
    r.duration = std::chrono::milliseconds(1500);
    const auto line = session_end_line(r);
    BOOST_TEST(line == "session=7 event=end client=192.0.2.7 clientname=evil_name_ interface=127.0.0.1:8080 "
                       "server=[::1]:80 status=SERVER code=5 bytes_client=12 bytes_server=34 duration=1.500 "
                       "reason=\"server->client: read: Connection reset by peer\"");
    s.extended_info = true;
    const auto ext = session_end_line(r);
    BOOST_TEST(ext.find(" clientport=40000") != std::string::npos);
    BOOST_TEST(ext.find(" outgoing=[::1]:5555") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(start_line_and_exec_sessions)
{
    SessionRecord r;
    r.id = 1;
    r.client = Endpoint{ip("127.0.0.1"), 1};
    r.local = Endpoint{ip("127.0.0.1"), 2};
    BOOST_TEST(session_start_line(r) == "session=1 event=start client=127.0.0.1 clientname=127.0.0.1 "
                                        "interface=127.0.0.1:2");
    r.program = "/usr/bin/handler";
    BOOST_TEST(session_end_line(r).find(" program=/usr/bin/handler ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rotate_walks_the_range_and_wraps)
{
    BOOST_TEST(rotate_address(ip("10.0.0.254"), ip("10.0.1.1"), 0).str() == ip("10.0.0.254").str());
    BOOST_TEST(rotate_address(ip("10.0.0.254"), ip("10.0.1.1"), 2).str() == ip("10.0.1.0").str());
    BOOST_TEST(rotate_address(ip("10.0.0.254"), ip("10.0.1.1"), 4).str() == ip("10.0.0.254").str());
    BOOST_TEST(rotate_address(ip("2001:db8::ff"), ip("2001:db8::101"), 1).str() == ip("2001:db8::100").str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_file_line)

BOOST_AUTO_TEST_CASE(nine_fields_and_placeholders)
{
    Service s;
    s.logname = "smtp";
    SessionRecord r;
    r.service = &s;
    r.started = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    r.local = Endpoint{*IpAddress::parse("127.0.0.1"), 25};
    r.client = Endpoint{*IpAddress::parse("::ffff:192.0.2.7"), 4000};
    r.client_name = "bad name";
    BOOST_TEST(format_status_line(status_line_of(r, 99)) ==
               "tcpproxy smtp 99 1700000000 127.0.0.1:25 192.0.2.7 192.0.2.7 - -\n");
    r.client_name = "host.example";
    r.server = Endpoint{*IpAddress::parse("10.0.0.1"), 2525};
    r.origdst = Endpoint{*IpAddress::parse("10.9.9.9"), 25};
    BOOST_TEST(format_status_line(status_line_of(r, 99)) ==
               "tcpproxy smtp 99 1700000000 127.0.0.1:25 192.0.2.7 host.example 10.0.0.1:2525 10.9.9.9:25\n");
}

BOOST_AUTO_TEST_SUITE_END()
