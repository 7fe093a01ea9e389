// bench_hold: holds --sessions idle sessions open through a proxy. Each is
// verified end to end when opened (a round trip through the proxy to the echo
// backend) and again once all are open, so every counted session is proven
// alive at the same time. Then prints
//   held ok=N fail=N open_seconds=S
// and keeps the sessions, idle, until its standard input reaches EOF (the
// benchmark reads the proxy's memory meanwhile). Exits non-zero if any
// session failed.
#include "bench_net.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>

namespace {

using bench::Clock;
using bench::Fd;

// A connect that gives up at the deadline: a proxy whose backlog is full
// would otherwise keep a blocking connect waiting for minutes.
Fd connect_until(const sockaddr_in& to, Clock::time_point deadline)
{
    Fd fd = bench::tcp_socket(SOCK_NONBLOCK);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        if (errno != EINPROGRESS)
            return Fd();
        if (!bench::wait_ready(fd.get(), POLLOUT, deadline))
            return Fd();
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
            return Fd();
    }
    bench::set_nodelay(fd.get());
    return fd;
}

bool round_trip(int fd, std::size_t index, int pass, Clock::time_point deadline)
{
    char token[32];
    const int len = std::snprintf(token, sizeof token, "session %08zu pass %d\n", index, pass);
    char echo[32];
    try {
        bench::write_all(fd, token, static_cast<std::size_t>(len));
        return bench::read_exact(fd, echo, static_cast<std::size_t>(len), deadline) &&
               std::memcmp(token, echo, static_cast<std::size_t>(len)) == 0;
    } catch (const std::system_error&) {
        return false;
    }
}

} // namespace

int main(int argc, char** argv)
{
    try {
        bench::Args args(argc, argv, {{"connect", "127.0.0.1:40001"}, {"sessions", "1000"}, {"timeout-ms", "5000"}});
        bench::raise_fd_limit();
        const sockaddr_in target = bench::parse_endpoint(args.str("connect"));
        const auto wanted = static_cast<std::size_t>(args.num("sessions"));
        const auto timeout = std::chrono::milliseconds(args.num("timeout-ms"));

        const auto start = Clock::now();
        std::vector<Fd> sessions;
        sessions.reserve(wanted);
        std::size_t failed = 0;
        for (std::size_t i = 0; i < wanted; ++i) {
            const auto deadline = Clock::now() + timeout;
            Fd fd = connect_until(target, deadline);
            if (fd && round_trip(fd.get(), i, 1, deadline))
                sessions.push_back(std::move(fd));
            else
                ++failed;
        }
        std::size_t ok = 0;
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            if (round_trip(sessions[i].get(), i, 2, Clock::now() + timeout))
                ++ok;
            else
                ++failed;
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        std::cout << "held ok=" << ok << " fail=" << failed << " open_seconds=" << seconds << std::endl;

        // Idle until told to let go: EOF on stdin.
        char c;
        while (::read(STDIN_FILENO, &c, 1) > 0) {
        }
        return failed == 0 ? 0 : 3;
    } catch (const std::exception& e) {
        std::cerr << "bench_hold: " << e.what() << '\n';
        return 1;
    }
}
