#include "daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
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

Result<Pidfile> Pidfile::open(const std::string& path)
{
    Pidfile p;
    p.fd_ = Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644));
    if (!p.fd_) {
        const int e = errno;
        return fail("pidfile " + path + ": " +
                    (e == ELOOP ? std::string("is a symbolic link") : errno_text("open", e)));
    }
    struct stat st {};
    if (::fstat(p.fd_.get(), &st) < 0)
        return fail("pidfile " + path + ": " + errno_text("fstat"));
    if (!S_ISREG(st.st_mode))
        return fail("pidfile " + path + ": not a regular file");
    if (st.st_nlink != 1)
        return fail("pidfile " + path + ": has " + std::to_string(st.st_nlink) + " links (a hard link?)");
    if (::flock(p.fd_.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            return fail("pidfile " + path + ": " + errno_text("flock"));
        char buf[32] = {};
        const ssize_t n = ::pread(p.fd_.get(), buf, sizeof buf - 1, 0);
        std::string pid; // only the digits: the file's text is not trusted
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i)
            pid += buf[i];
        return fail("pidfile " + path + " is locked by a running tcpproxy (pid " + (pid.empty() ? "unknown" : pid) +
                    ")");
    }
    p.path_ = path;
    return p;
}

void Pidfile::write(long pid)
{
    const std::string text = std::to_string(pid) + "\n";
    if (::ftruncate(fd_.get(), 0) < 0)
        throw sys_error("ftruncate(" + path_ + ")");
    if (::pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw sys_error("write(" + path_ + ")");
}

Pidfile::~Pidfile()
{
    if (path_.empty() || !fd_)
        return;
    struct stat mine {
    }, there{};
    if (::fstat(fd_.get(), &mine) == 0 && ::lstat(path_.c_str(), &there) == 0 && mine.st_dev == there.st_dev &&
        mine.st_ino == there.st_ino)
        ::unlink(path_.c_str());
}

} // namespace tcpproxy
