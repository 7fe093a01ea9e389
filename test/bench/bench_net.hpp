// Small shared pieces of the benchmark's load generators: an owning
// descriptor, errors that name the failing call, loopback endpoints, the
// descriptor limit and a tiny "--key value" argument reader. The generators
// are plain Linux socket programs on purpose: their own cost must stay far
// below the proxies' they measure.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace bench {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept
    {
        if (this != &other)
            reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

[[noreturn]] inline void fail(const std::string& call)
{
    throw std::system_error(errno, std::generic_category(), call);
}

inline sockaddr_in parse_endpoint(const std::string& text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        throw std::invalid_argument("endpoint must be IPv4:PORT: " + text);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &sa.sin_addr) != 1)
        throw std::invalid_argument("bad IPv4 address in " + text);
    const long port = std::strtol(text.c_str() + colon + 1, nullptr, 10);
    if (port < 1 || port > 65535)
        throw std::invalid_argument("bad port in " + text);
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    return sa;
}

// Holding thousands of sessions needs more descriptors than the default soft
// limit; the hard limit is what the machine grants.
inline void raise_fd_limit()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        fail("getrlimit(RLIMIT_NOFILE)");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fail("setrlimit(RLIMIT_NOFILE)");
}

inline void set_nodelay(int fd)
{
    const int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        fail("setsockopt(TCP_NODELAY)");
}

inline Fd tcp_socket(int extra_flags = 0)
{
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0));
    if (!fd)
        fail("socket");
    return fd;
}

inline Fd connect_blocking(const sockaddr_in& to)
{
    Fd fd = tcp_socket();
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0)
        fail("connect");
    set_nodelay(fd.get());
    return fd;
}

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for `events` or the deadline passes; false on
// timeout. EINTR is retried with the remaining time.
inline bool wait_ready(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0)
            return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            fail("poll");
    }
}

// Reads exactly len bytes before the deadline. Returns false on EOF or
// timeout; throws on a socket error.
inline bool read_exact(int fd, char* buf, std::size_t len, Clock::time_point deadline)
{
    std::size_t got = 0;
    while (got < len) {
        if (!wait_ready(fd, POLLIN, deadline))
            return false;
        const ssize_t n = ::recv(fd, buf + got, len - got, MSG_DONTWAIT);
        if (n > 0)
            got += static_cast<std::size_t>(n);
        else if (n == 0)
            return false;
        else if (errno != EAGAIN && errno != EINTR)
            fail("recv");
    }
    return true;
}

inline void write_all(int fd, const char* buf, std::size_t len)
{
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = ::send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n > 0)
            done += static_cast<std::size_t>(n);
        else if (n < 0 && errno != EINTR)
            fail("send");
    }
}

// "--key value" pairs; every key must be one the program declared with a
// default, so a typo is an error rather than silently ignored.
class Args {
public:
    Args(int argc, char** argv, std::map<std::string, std::string> defaults) : values_(std::move(defaults))
    {
        for (int i = 1; i < argc; i += 2) {
            std::string key = argv[i];
            if (key.rfind("--", 0) != 0 || i + 1 >= argc)
                throw std::invalid_argument("usage: --key value ... (at " + key + ")");
            key.erase(0, 2);
            auto it = values_.find(key);
            if (it == values_.end())
                throw std::invalid_argument("unknown option --" + key);
            it->second = argv[i + 1];
        }
    }
    const std::string& str(const std::string& key) const { return values_.at(key); }
    long num(const std::string& key) const
    {
        const std::string& v = values_.at(key);
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0')
            throw std::invalid_argument("--" + key + " needs a number, got " + v);
        return n;
    }
    double real(const std::string& key) const
    {
        const std::string& v = values_.at(key);
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0')
            throw std::invalid_argument("--" + key + " needs a number, got " + v);
        return d;
    }

private:
    std::map<std::string, std::string> values_;
};

} // namespace bench
