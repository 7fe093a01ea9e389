#include "tcpproxy/report/capture.hpp"
#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <string>

using namespace tcpproxy;

BOOST_AUTO_TEST_SUITE(capture_limit)

BOOST_AUTO_TEST_CASE(writefile_limit_drops_what_goes_beyond_with_a_drop_record)
{
    const test::TempDir dir("capture-limit");
    const std::string path = dir.str() + "/cap.log";
    const std::string hundred(100, 'x');
    std::uint64_t dropped = 0;
    {
        CaptureWriter w(path);
        w.limit_file(350);
        for (int i = 0; i < 10; ++i)
            w.record(Direction::client_to_server, hundred.data(), hundred.size());
        w.close();
        dropped = w.dropped_bytes();
    }
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto drop = text.find("DROP C2S ");
    BOOST_REQUIRE(drop != std::string::npos);
    BOOST_TEST(drop <= 350u, "the records before the DROP record stay within the limit");
    BOOST_TEST(text.size() < 350u + 64u, "only the DROP record goes beyond it");
    BOOST_TEST(dropped >= 700u);
    BOOST_TEST(text.find(" " + std::to_string(dropped) + "\n", drop) != std::string::npos, "it counts the bytes");
}

BOOST_AUTO_TEST_SUITE_END()
