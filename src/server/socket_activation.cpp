#include "socket_activation.hpp"

#include "tcpproxy/server/server.hpp"
#include "tcpproxy/net/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <mutex>

namespace tcpproxy {

namespace {

bool is_listening_tcp(int fd)
{
    int proto = 0;
    socklen_t len = sizeof proto;
    return ::sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0 &&
           ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP;
}

std::mutex kept_mutex;
std::vector<ActivatedSocket> kept;

struct ActivatedSockets {
    std::vector<ActivatedSocket> listening;
    Fd connection;
    std::vector<std::string> ignored;
};

// The passed sockets: listening TCP sockets go to `listening`; a single
// connected TCP socket (Accept=yes without StandardInput=socket) to
// `connection`; anything else is closed and named in `ignored`.
// sd_listen_fds(3) checks LISTEN_PID, clears the variables (so that no
// handler program inherits them) and marks every descriptor close-on-exec;
// it returns nothing when LISTEN_PID is not this process.
ActivatedSockets take_activated_sockets()
{
    ActivatedSockets out;
    const int count = ::sd_listen_fds(1);
    if (count <= 0)
        return out;
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0)
            continue; // promised but not there
        Fd owned(fd);
        if (is_listening_tcp(fd)) {
            try {
                const auto local = local_endpoint(fd);
                out.listening.push_back(ActivatedSocket{std::move(owned), local.port, local.str()});
                continue;
            } catch (const std::system_error&) {
            }
        } else if (!out.connection && count == 1 && is_connected_tcp_socket(fd)) {
            out.connection = std::move(owned);
            continue;
        }
        out.ignored.push_back("descriptor " + std::to_string(fd));
    }
    return out;
}

} // namespace

std::vector<ActivatedSocket> take_activated_listeners()
{
    std::lock_guard lock(kept_mutex);
    return std::move(kept);
}

std::vector<std::string> adopt_activated_sockets()
{
    auto got = take_activated_sockets();
    if (got.connection && !is_connected_tcp_socket(STDIN_FILENO)) {
        // inetd mode reads its connection from stdin, however it was passed.
        if (::dup2(got.connection.get(), STDIN_FILENO) < 0)
            got.ignored.push_back("the connection (" + errno_text("dup2") + ")");
    }
    std::lock_guard lock(kept_mutex);
    kept = std::move(got.listening);
    return std::move(got.ignored);
}

} // namespace tcpproxy
