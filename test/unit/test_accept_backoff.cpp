// The acceptor's wait after accept() fails for want of descriptors
// (server/listener.hpp): 50 ms, doubling up to 1 s, reset by a success.
#include "server/listener.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace tcpproxy;

BOOST_AUTO_TEST_SUITE(accept_backoff)

BOOST_AUTO_TEST_CASE(doubles_from_50_ms_up_to_one_second)
{
    AcceptBackoff b;
    BOOST_TEST(b.wait_ms() == 0, "no wait before a failure");
    std::vector<int> waits;
    for (int i = 0; i < 8; ++i) {
        b.failed();
        waits.push_back(b.wait_ms());
    }
    const std::vector<int> expected{50, 100, 200, 400, 800, 1000, 1000, 1000};
    BOOST_TEST(waits == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_success_starts_over)
{
    AcceptBackoff b;
    for (int i = 0; i < 4; ++i)
        b.failed();
    BOOST_TEST(b.wait_ms() == 400);
    b.succeeded();
    BOOST_TEST(b.wait_ms() == 0);
    b.failed();
    BOOST_TEST(b.wait_ms() == 50);
}

BOOST_AUTO_TEST_SUITE_END()
