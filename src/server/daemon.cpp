#include "daemon.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace tcpproxy {

std::size_t raise_descriptor_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit up = rl;
        up.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    return rl.rlim_cur == RLIM_INFINITY ? static_cast<std::size_t>(1) << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

std::size_t sessions_that_fit(std::size_t limit)
{
    if (limit <= reserved_descriptors + 2)
        return 1;
    return (limit - reserved_descriptors) / 2;
}

Fd daemonize()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        throw sys_error("pipe2");
    Fd r(p[0]), w(p[1]);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw sys_error("fork");
    if (pid > 0) {
        w.reset();
        std::string msg;
        char buf[512];
        ssize_t n;
        while ((n = ::read(r.get(), buf, sizeof buf)) != 0) {
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            msg.append(buf, static_cast<std::size_t>(n));
        }
        if (msg == "ok")
            ::_exit(0);
        std::cerr << "tcpproxy: " << (msg.empty() ? std::string("the daemon ended during start-up") : msg) << '\n';
        ::_exit(1);
    }
    r.reset();
    ::setsid();
    if (::chdir("/") < 0) {
        // Staying in the start directory only keeps it busy; not worth failing for.
    }
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (null > 2)
            ::close(null);
    }
    return w;
}

void report_readiness(Fd& channel, const std::string& error)
{
    if (!channel)
        return;
    const std::string msg = error.empty() ? "ok" : error;
    [[maybe_unused]] auto n = ::write(channel.get(), msg.data(), msg.size());
    channel.reset();
}

Pidfile::Pidfile(std::string path) : path_(std::move(path))
{
    Fd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
        const int e = errno;
        path_.clear();
        throw sys_error("open(pidfile)", e);
    }
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        const int e = errno;
        ::unlink(path_.c_str());
        path_.clear();
        throw sys_error("write(pidfile)", e);
    }
}

Pidfile::~Pidfile()
{
    if (!path_.empty())
        ::unlink(path_.c_str());
}

} // namespace tcpproxy
