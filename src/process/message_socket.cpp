#include "message_socket.hpp"

#include <sys/socket.h>

#include <cstring>

namespace tcpproxy {

namespace {

constexpr std::size_t fd_limit = 8; // no message of ours carries more

} // namespace

std::pair<Fd, Fd> message_socket_pair()
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        throw sys_error("socketpair");
    return {Fd(sv[0]), Fd(sv[1])};
}

int send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds, bool nonblocking)
{
    if (fds.size() > fd_limit)
        return EINVAL;
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_limit)];
    if (!fds.empty()) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const int flags = MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0);
    for (;;) {
        if (::sendmsg(sock, &msg, flags) >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

Received receive_message(int sock, std::size_t max_bytes, std::size_t max_fds, bool nonblocking)
{
    Received r;
    r.bytes.resize(max_bytes);
    iovec iov{r.bytes.data(), r.bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_limit)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const int flags = MSG_CMSG_CLOEXEC | (nonblocking ? MSG_DONTWAIT : 0);
    ssize_t n;
    while ((n = ::recvmsg(sock, &msg, flags)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        r.kind = (errno == EAGAIN || errno == EWOULDBLOCK) ? Received::Kind::would_block : Received::Kind::broken;
        r.err = errno;
        r.bytes.clear();
        return r;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            r.fds.emplace_back(fd);
        }
    }
    if (n == 0 && r.fds.empty()) {
        // SEQPACKET has no empty messages of ours: zero bytes is the peer's close.
        r.kind = Received::Kind::closed;
        r.bytes.clear();
        return r;
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || r.fds.size() > max_fds) {
        r.kind = Received::Kind::broken;
        r.err = EMSGSIZE;
        r.bytes.clear();
        r.fds.clear();
        return r;
    }
    r.bytes.resize(static_cast<std::size_t>(n));
    return r;
}

} // namespace tcpproxy
