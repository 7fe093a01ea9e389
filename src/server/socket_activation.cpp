#include "socket_activation.hpp"

#include "tcpproxy/server/server.hpp"
#include "tcpproxy/net/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string_view>

namespace tcpproxy {

namespace {

constexpr int first_fd = 3; // SD_LISTEN_FDS_START

std::optional<long> number(const char* text)
{
    if (!text)
        return std::nullopt;
    const std::string_view s(text);
    long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

bool is_listening_tcp(int fd)
{
    int listening = 0, type = 0, proto = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
        return false;
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return false;
    len = sizeof proto;
    return ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP;
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
// `connection`; anything else is closed and named in `ignored`. Clears the
// variables so that no handler program inherits them, and marks every
// descriptor close-on-exec. Empty when LISTEN_PID is not this process.
ActivatedSockets take_activated_sockets()
{
    ActivatedSockets out;
    const auto pid = number(::getenv("LISTEN_PID"));
    const auto count = number(::getenv("LISTEN_FDS"));
    // Whatever happens, the variables were meant for this process only.
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!pid || !count || *pid != static_cast<long>(::getpid()) || *count == 0)
        return out;
    for (int fd = first_fd; fd < first_fd + static_cast<int>(std::min<long>(*count, 4096)); ++fd) {
        const int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0)
            continue; // promised but not there
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        Fd owned(fd);
        if (is_listening_tcp(fd)) {
            try {
                const auto local = local_endpoint(fd);
                out.listening.push_back(ActivatedSocket{std::move(owned), local.port, local.str()});
                continue;
            } catch (const std::system_error&) {
            }
        } else if (!out.connection && *count == 1 && is_connected_tcp_socket(fd)) {
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
