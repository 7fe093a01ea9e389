// TCP_NODELAY on both sides of a session: the upstream socket we create, and
// accepted client sockets (inherited from the listening socket).
#include "server/listener.hpp"
#include "tcpproxy/net/socket.hpp"

#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpproxy;

namespace {

int nodelay(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    BOOST_REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
    return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(socket_options)

BOOST_AUTO_TEST_CASE(upstream_socket_has_nodelay)
{
    Fd fd = tcp_socket_for(*IpAddress::parse("127.0.0.1"));
    BOOST_CHECK(nodelay(fd.get()) != 0);
}

BOOST_AUTO_TEST_CASE(accepted_client_socket_has_nodelay)
{
    Fd listening = listen_on(Endpoint{*IpAddress::parse("127.0.0.1"), 0}, true, 8);
    BOOST_CHECK_EQUAL(nodelay(listening.get()), 0);
    // Same open socket, kept to look at after the Listener owns the original.
    Fd watch(::dup(listening.get()));
    const auto where = local_endpoint(listening.get());
    std::vector<Fd> sockets;
    sockets.push_back(std::move(listening));
    Listener listener(where.port, BindPlan{}, std::move(sockets));

    Fd client = tcp_socket_for(where.ip);
    sockaddr_storage ss{};
    const auto len = where.to_sockaddr(ss);
    ::connect(client.get(), reinterpret_cast<const sockaddr*>(&ss), len); // non-blocking: in progress
    Fd accepted(::accept4(watch.get(), nullptr, nullptr, SOCK_CLOEXEC));  // the listener is not started
    BOOST_REQUIRE(accepted);
    BOOST_CHECK(nodelay(accepted.get()) != 0);
}

BOOST_AUTO_TEST_SUITE_END()
