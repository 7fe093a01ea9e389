// What loading a configuration costs in memory per section, so that a copy
// per section creeping back in (each level of every section kept whole, the
// syntax tree of the whole file held while it is validated, vectors grown
// by doubling) fails here rather than as a slow `--check-config` on a large
// file, where every new page of heap is a page fault (issue 13: under 50 ms
// for 10,000 lines). Not a timed test: it counts what the loading thread
// allocates, through a counting operator new of this test binary.
//
// The bounds are twice the figures measured when they were set (GCC 12,
// glibc 2.36, Debian 12): per section of the block below, 916 bytes at the
// peak of live heap and 3,136 allocated in all. Before the port sections
// were validated as they are read, and dropped, it was 4,060 and 7,076.
#include "tcpproxy/config/config_load.hpp"

#include <boost/test/unit_test.hpp>

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

namespace {

// Counted only on the thread that asked for it, while it asks: the other
// tests' threads (and their allocations) are not this test's.
struct Counter {
    bool on = false;
    std::int64_t live = 0; // bytes allocated minus bytes freed since start()
    std::int64_t peak = 0;
    std::uint64_t bytes = 0; // allocated since start()
    std::uint64_t calls = 0;
};
thread_local Counter counter;

void count_new(void* p)
{
    if (!counter.on)
        return;
    const auto size = static_cast<std::int64_t>(malloc_usable_size(p));
    ++counter.calls;
    counter.bytes += static_cast<std::uint64_t>(size);
    counter.live += size;
    counter.peak = std::max(counter.peak, counter.live);
}

void count_delete(void* p)
{
    if (counter.on && p)
        counter.live -= static_cast<std::int64_t>(malloc_usable_size(p));
}

} // namespace

// Every form of the plain (not over-aligned) operator new and delete is
// replaced: libstdc++'s own array and nothrow forms forward to the single
// ones, but a sanitizer runtime replaces each form itself, and memory from
// its nothrow new (std::stable_sort's buffer) must not reach our delete.
void* operator new(std::size_t size)
{
    void* p = std::malloc(size == 0 ? 1 : size);
    if (!p)
        throw std::bad_alloc();
    count_new(p);
    return p;
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p)
        count_new(p);
    return p;
}

void* operator new[](std::size_t size) { return operator new(size); }
void* operator new[](std::size_t size, const std::nothrow_t& nt) noexcept { return operator new(size, nt); }

void operator delete(void* p) noexcept
{
    count_delete(p);
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }

namespace {

// One port block as test/config/gen_big.py writes it (the file --check-config
// is timed on): a port and four interface sections using most directives.
std::string port_block(int i)
{
    const auto n = [](int v) { return std::to_string(v); };
    const std::string port = n(10000 + i), ab = n(i / 250) + "." + n(i % 250);
    const std::string first = "192.0.2." + n(i % 250 + 1), next = "192.0.2." + n(i % 250 + 2);
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(i));
    std::string text;
    for (const std::string& line : {
             "# service " + n(i),
             "port " + port,
             "  server " + first + ":" + port + " backup-" + n(i) + ".example.org:" + port,
             std::string("  timeout 120"),
             "  acl +10." + ab + ".0/24, -10.0.0.0/8,+192.168.0.0/255.255.0.0",
             "  interface 127." + ab + ".1",
             "    name \"service " + n(i) + " on loopback\"   # quoted, with a comment",
             std::string("    acl +127.0.0.0/8"),
             "    srcip 127." + ab + ".1",
             std::string("    user root.root"),
             "  interface 2001:db8::" + std::string(hex),
             "    server [2001:db8::" + std::string(hex) + ":25]:25",
             std::string("    proxy-protocol v2"),
             std::string("    redirect-mode only"),
             "  interface eth" + n(i % 8),
             "    exec /usr/local/bin/handler-" + n(i) + " --port " + port + " \"two words\"",
             "    logname svc" + n(i),
             std::string("  interface *"),
             std::string("    extended-info yes"),
             "    rotate " + first + " " + next,
         })
        text += line + "\n";
    return text;
}

constexpr int sections_per_block = 4;

std::string config_of(int blocks)
{
    std::string text = "standalone yes\npidfile /run/tcpproxy.pid\nmax-sessions 100000\ntimeout 60\n\n";
    for (int i = 0; i < blocks; ++i)
        text += port_block(i);
    return text;
}

struct Cost {
    double peak;  // bytes of live heap at the peak
    double bytes; // bytes allocated in all
};

// What parse_config allocates for `blocks` port blocks, the Config it
// returns still held (it is the result, and counted).
Cost load_cost(int blocks)
{
    const std::string text = config_of(blocks);
    counter = {};
    counter.on = true;
    const auto loaded = tcpproxy::parse_config(text, "big.conf");
    counter.on = false;
    BOOST_TEST_REQUIRE(static_cast<bool>(loaded.config), "the generated config is not valid");
    BOOST_TEST_REQUIRE(loaded.config->ports.size() == static_cast<std::size_t>(blocks));
    return {static_cast<double>(counter.peak), static_cast<double>(counter.bytes)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_memory)

// The difference between two file sizes is the cost of the sections added:
// what is paid once (lookups, the global level) cancels out.
BOOST_AUTO_TEST_CASE(loading_costs_a_bounded_amount_of_memory_per_section)
{
    const int small = 100, large = 300;
    const Cost a = load_cost(small), b = load_cost(large);
    const double sections = (large - small) * sections_per_block;
    const double peak = (b.peak - a.peak) / sections, bytes = (b.bytes - a.bytes) / sections;
    BOOST_TEST_MESSAGE("per section: peak " << peak << " B, allocated " << bytes << " B");
    BOOST_TEST(peak < 2 * 916.0, "peak live heap per section: " << peak << " bytes");
    BOOST_TEST(bytes < 2 * 3136.0, "bytes allocated per section: " << bytes << " bytes");
}

BOOST_AUTO_TEST_SUITE_END()
