// The one translation unit that defines the Boost.Test module; every other
// file in test/unit/ adds suites to it.
#define BOOST_TEST_MODULE tcpproxy unit tests
#include <boost/test/unit_test.hpp>
