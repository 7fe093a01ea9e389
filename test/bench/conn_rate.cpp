// bench_connrate: connection rate. Keeps --concurrency connections in flight
// for --seconds; each connects, sends a --size byte request, reads the echoed
// reply in full, checks it and closes. Counts completed exchanges and every
// failure by cause (connect error, reset, early EOF, wrong bytes, timeout), and
// prints one line of key=value pairs:
//   ok=N fail=N seconds=S rate=R p50_us=P p99_us=P failures=cause:n,...
// p50_us/p99_us: connect() to the last byte of the reply, per completed exchange.
//
// One non-blocking epoll loop drives all connections, so the client costs
// little CPU per connection. The client closes first and so keeps the
// TIME_WAIT; to keep tens of thousands of them per second from exhausting the
// ephemeral ports toward one destination, connections to a loopback target
// leave from --sources different 127.0.0.x addresses.
#include "bench_net.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <vector>

namespace {

using bench::Clock;
using bench::fail;
using bench::Fd;

class ConnRate {
public:
    ConnRate(const bench::Args& args)
        : target_(bench::parse_endpoint(args.str("connect"))), size_(static_cast<std::size_t>(args.num("size"))),
          timeout_(std::chrono::milliseconds(args.num("timeout-ms"))), epoll_(::epoll_create1(EPOLL_CLOEXEC)),
          slots_(static_cast<std::size_t>(args.num("concurrency")))
    {
        if (!epoll_)
            fail("epoll_create1");
        if (size_ < 1 || size_ > 4096)
            throw std::invalid_argument("--size must be 1..4096");
        if (slots_.empty() || slots_.size() > 10000)
            throw std::invalid_argument("--concurrency must be 1..10000");
        request_.resize(size_);
        for (std::size_t i = 0; i < size_; ++i)
            request_[i] = static_cast<char>('a' + i % 26);
        const long sources = args.num("sources");
        const bool loopback = (ntohl(target_.sin_addr.s_addr) >> 24) == 127;
        if (loopback && sources > 1) {
            for (long i = 0; i < sources && i < 250; ++i) {
                sockaddr_in from{};
                from.sin_family = AF_INET;
                from.sin_addr.s_addr = htonl(0x7f000002u + static_cast<std::uint32_t>(i));
                sources_.push_back(from);
            }
        }
    }

    void run(double seconds)
    {
        const auto start = Clock::now();
        const auto stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        for (std::size_t i = 0; i < slots_.size(); ++i)
            begin(i);
        std::vector<epoll_event> events(slots_.size());
        std::vector<char> buf(size_ + 1);
        while (Clock::now() < stop) {
            const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 20);
            if (n < 0 && errno != EINTR)
                fail("epoll_wait");
            for (int k = 0; k < n; ++k)
                step(events[static_cast<std::size_t>(k)].data.u32, buf);
            expire();
        }
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        std::size_t failed = 0;
        std::string causes;
        for (const auto& [cause, count] : failures_) {
            failed += count;
            causes += (causes.empty() ? "" : ",") + cause + ":" + std::to_string(count);
        }
        std::cout << "ok=" << ok_ << " fail=" << failed << " seconds=" << elapsed
                  << " rate=" << static_cast<double>(ok_) / elapsed << " p50_us=" << percentile(0.50)
                  << " p99_us=" << percentile(0.99) << " failures=" << (causes.empty() ? "-" : causes) << std::endl;
    }

private:
    double percentile(double q)
    {
        if (micros_.empty())
            return 0;
        const auto k = static_cast<std::size_t>(q * static_cast<double>(micros_.size() - 1));
        std::nth_element(micros_.begin(), micros_.begin() + static_cast<long>(k), micros_.end());
        return micros_[k];
    }

    enum class State { connecting, reading };
    struct Slot {
        Fd fd;
        State state = State::connecting;
        std::size_t got = 0;
        Clock::time_point started;
        Clock::time_point deadline;
    };

    void failure(std::size_t i, const std::string& cause)
    {
        ++failures_[cause];
        begin(i);
    }

    void begin(std::size_t i)
    {
        Slot& s = slots_[i];
        s.fd = bench::tcp_socket(SOCK_NONBLOCK);
        s.state = State::connecting;
        s.got = 0;
        s.started = Clock::now();
        s.deadline = s.started + timeout_;
        if (!sources_.empty()) {
            const int one = 1;
            if (setsockopt(s.fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0)
                fail("setsockopt(IP_BIND_ADDRESS_NO_PORT)");
            const sockaddr_in& from = sources_[next_source_++ % sources_.size()];
            if (::bind(s.fd.get(), reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0)
                fail("bind");
        }
        if (::connect(s.fd.get(), reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
            errno != EINPROGRESS) {
            // Counted and retried on the next expiry pass, not at once: an
            // immediate error (no ports left) would otherwise spin.
            ++failures_[std::string("connect:") + strerrorname_np(errno)];
            s.fd.reset();
            s.deadline = Clock::now();
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.fd.get(), &ev) != 0)
            fail("epoll_ctl(ADD)");
    }

    void step(std::uint32_t i, std::vector<char>& buf)
    {
        Slot& s = slots_[i];
        if (!s.fd)
            return;
        if (s.state == State::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(s.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                fail("getsockopt(SO_ERROR)");
            if (err != 0)
                return failure(i, std::string("connect:") + strerrorname_np(err));
            const ssize_t n = ::send(s.fd.get(), request_.data(), size_, MSG_NOSIGNAL);
            if (n != static_cast<ssize_t>(size_))
                return failure(i, n < 0 ? std::string("send:") + strerrorname_np(errno) : "short-send");
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = i;
            if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, s.fd.get(), &ev) != 0)
                fail("epoll_ctl(MOD)");
            s.state = State::reading;
            return;
        }
        const ssize_t n = ::recv(s.fd.get(), buf.data() + s.got, buf.size() - s.got, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            return failure(i, std::string("recv:") + strerrorname_np(errno));
        }
        if (n == 0)
            return failure(i, "early-eof");
        s.got += static_cast<std::size_t>(n);
        if (s.got > size_ || std::memcmp(buf.data(), request_.data(), s.got) != 0)
            return failure(i, "wrong-bytes");
        if (s.got == size_) {
            ++ok_;
            micros_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s.started).count());
            begin(i);
        }
    }

    void expire()
    {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].deadline > now)
                continue;
            if (slots_[i].fd)
                failure(i, "timeout");
            else
                begin(i);
        }
    }

    sockaddr_in target_;
    std::size_t size_;
    Clock::duration timeout_;
    Fd epoll_;
    std::vector<Slot> slots_;
    std::vector<sockaddr_in> sources_;
    std::size_t next_source_ = 0;
    std::string request_;
    std::size_t ok_ = 0;
    std::vector<double> micros_;
    std::map<std::string, std::size_t> failures_;
};

} // namespace

int main(int argc, char** argv)
{
    try {
        bench::Args args(argc, argv,
                         {{"connect", "127.0.0.1:40001"},
                          {"concurrency", "8"},
                          {"seconds", "4"},
                          {"size", "64"},
                          {"timeout-ms", "2000"},
                          {"sources", "16"}});
        bench::raise_fd_limit();
        ConnRate(args).run(args.real("seconds"));
    } catch (const std::exception& e) {
        std::cerr << "bench_connrate: " << e.what() << '\n';
        return 1;
    }
}
