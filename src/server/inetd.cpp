// inetd mode (reference §1): the client connection is stdin; one session,
// then exit with its status number.
#include "process_setup.hpp"
#include "tcpproxy/session/session.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/server/server.hpp"
#include "tcpproxy/net/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/thread/thread.hpp>

#include <atomic>

namespace tcpproxy {

bool is_connected_tcp_socket(int fd)
{
    int type = 0, proto = 0, domain = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return false;
    len = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || (domain != AF_INET && domain != AF_INET6))
        return false;
    len = sizeof proto;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != IPPROTO_TCP)
        return false;
    sockaddr_storage ss{};
    len = sizeof ss;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

namespace {

class InetdHost : public SessionHost {
public:
    void start_secondary(Session& s) override
    {
        boost::thread::attributes attrs;
        attrs.set_stack_size(session_stack_bytes);
        secondary_ = boost::thread(attrs, [&s] { s.run_secondary(); });
    }
    void finished(Session&, SessionRecord&& record) override
    {
        status_.store(status_code(record.status));
        reaper_->submit(std::move(record));
    }
    void join()
    {
        if (secondary_.joinable())
            secondary_.join();
    }
    int status() const { return status_.load(); }
    Reaper* reaper_ = nullptr;

private:
    boost::thread secondary_;
    std::atomic<int> status_{status_code(Status::proxy)};
};

} // namespace

int run_inetd(const CommandLine&, ConfigPtr config)
{
    prepare_process_signals();
    log::init(log_options(*config, config->debug));

    // Take the connection off stdin/stdout so that this session holds the
    // only reference: closing it (or resetting it) then reaches the client.
    Fd client(::fcntl(0, F_DUPFD_CLOEXEC, 3));
    if (!client) {
        log::error(errno_text("fcntl(F_DUPFD_CLOEXEC)"));
        return status_code(Status::proxy);
    }
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::close(null);
    }
    set_nonblocking(client.get());
    set_nodelay(client.get());
    try {
        drop_privileges_inetd(*config, client.get());
    } catch (const std::exception& e) {
        log::error(std::string("giving up root: ") + e.what());
        return status_code(Status::proxy);
    }

    Reaper reaper(Reaper::Mode::inline_, static_cast<long>(::getpid()));
    InetdHost host;
    host.reaper_ = &reaper;
    Session session(host, reaper, static_cast<long>(::getpid()));
    session.assign(SessionStart{std::move(client), config, reaper.next_session_id()});

    // SIGTERM/SIGINT end the session (status PROXY); a thread waits for them
    // because the main thread is busy being the session's primary thread.
    std::atomic<bool> done{false};
    boost::thread signals([&] {
        const sigset_t wanted = wake::control_signals();
        for (;;) {
            int sig = 0;
            if (::sigwait(&wanted, &sig) != 0)
                continue;
            if (done.load())
                return;
            if (sig != SIGHUP)
                session.stop(Status::proxy, std::string("received ") + ::strsignal(sig));
        }
    });

    session.run_primary();
    host.join();
    done.store(true);
    ::pthread_kill(signals.native_handle(), SIGHUP);
    signals.join();
    reaper.stop();
    return host.status();
}

} // namespace tcpproxy
