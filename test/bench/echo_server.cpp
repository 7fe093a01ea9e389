// bench_echo: the benchmark's backend. Echoes every byte back on the same
// connection and closes when the peer closes. One epoll loop per thread, each
// with its own SO_REUSEPORT listener, so the backend never needs a lock and
// costs as little CPU per connection as we can make it. Prints "listening"
// once the listeners are up; runs until killed (SIGTERM ends it, and the
// kernel closes what it held).
#include "bench_net.hpp"

#include <sys/epoll.h>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using bench::fail;
using bench::Fd;

class EchoLoop {
public:
    explicit EchoLoop(const sockaddr_in& at)
        : listener_(bench::tcp_socket(SOCK_NONBLOCK)), epoll_(::epoll_create1(EPOLL_CLOEXEC))
    {
        if (!epoll_)
            fail("epoll_create1");
        const int one = 1;
        if (setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
            fail("setsockopt(SO_REUSEADDR)");
        if (setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            fail("setsockopt(SO_REUSEPORT)");
        if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
            fail("bind");
        if (::listen(listener_.get(), 4096) != 0)
            fail("listen");
        watch(listener_.get(), EPOLLIN, EPOLL_CTL_ADD);
    }

    void run()
    {
        std::vector<epoll_event> events(256);
        for (;;) {
            const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                fail("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == listener_.get())
                    accept_all();
                else
                    serve(fd, events[static_cast<std::size_t>(i)].events);
            }
        }
    }

private:
    // Per connection: the descriptor and what could not be written yet (a
    // peer that does not read while it writes). Indexed by descriptor.
    struct Conn {
        Fd fd;
        std::string pending;
    };

    void watch(int fd, std::uint32_t events, int op)
    {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0)
            fail("epoll_ctl");
    }

    void accept_all()
    {
        for (;;) {
            const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                    return;
                if (errno == EMFILE || errno == ENFILE) {
                    std::cerr << "bench_echo: accept4: out of descriptors\n";
                    return;
                }
                fail("accept4");
            }
            if (conns_.size() <= static_cast<std::size_t>(fd))
                conns_.resize(static_cast<std::size_t>(fd) + 1);
            conns_[static_cast<std::size_t>(fd)].fd.reset(fd);
            bench::set_nodelay(fd);
            watch(fd, EPOLLIN, EPOLL_CTL_ADD);
        }
    }

    void drop(int fd)
    {
        Conn& c = conns_[static_cast<std::size_t>(fd)];
        c.pending.clear();
        c.fd.reset(); // closing also removes it from the epoll set
    }

    // Writes what it can; whatever is left waits for EPOLLOUT and reading
    // stops meanwhile, so a peer that never reads cannot make us buffer
    // without bound.
    bool flush(int fd, const char* data, std::size_t len)
    {
        Conn& c = conns_[static_cast<std::size_t>(fd)];
        while (len > 0) {
            const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
            if (n > 0) {
                data += n;
                len -= static_cast<std::size_t>(n);
            } else if (errno == EAGAIN) {
                c.pending.assign(data, len);
                watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
                return true;
            } else if (errno != EINTR) {
                return false;
            }
        }
        return true;
    }

    void serve(int fd, std::uint32_t events)
    {
        Conn& c = conns_[static_cast<std::size_t>(fd)];
        if (!c.pending.empty()) {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                return;
            std::string rest;
            rest.swap(c.pending);
            if (!flush(fd, rest.data(), rest.size()))
                return drop(fd);
            if (c.pending.empty())
                watch(fd, EPOLLIN, EPOLL_CTL_MOD);
            return;
        }
        const ssize_t n = ::recv(fd, buffer_.data(), buffer_.size(), 0);
        if (n > 0) {
            if (!flush(fd, buffer_.data(), static_cast<std::size_t>(n)))
                drop(fd);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            drop(fd);
        }
    }

    Fd listener_;
    Fd epoll_;
    std::vector<Conn> conns_;
    std::vector<char> buffer_ = std::vector<char>(64 * 1024);
};

} // namespace

int main(int argc, char** argv)
{
    try {
        bench::Args args(argc, argv, {{"listen", "127.0.0.1:40010"}, {"threads", "1"}});
        bench::raise_fd_limit();
        const sockaddr_in at = bench::parse_endpoint(args.str("listen"));
        const long threads = args.num("threads");
        if (threads < 1 || threads > 64)
            throw std::invalid_argument("--threads must be 1..64");
        std::vector<EchoLoop> loops;
        loops.reserve(static_cast<std::size_t>(threads));
        for (long i = 0; i < threads; ++i)
            loops.emplace_back(at);
        std::cout << "listening" << std::endl;
        std::vector<std::jthread> workers;
        for (std::size_t i = 1; i < loops.size(); ++i)
            workers.emplace_back([&loop = loops[i]] {
                try {
                    loop.run();
                } catch (const std::exception& e) {
                    std::cerr << "bench_echo: " << e.what() << std::endl;
                    std::_Exit(1);
                }
            });
        loops[0].run();
    } catch (const std::exception& e) {
        std::cerr << "bench_echo: " << e.what() << '\n';
        return 1;
    }
}
