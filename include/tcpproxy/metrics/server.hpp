#pragma once
// The metrics listener: GET /metrics from one thread of its own, so that no
// scrape ever holds a session or an acceptor. Clients outside its ACL
// (loopback only when the ACL is empty) are closed without an answer.
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/net/address.hpp"

#include <atomic>
#include <string>
#include <thread>

namespace tcpproxy::metrics {

// Loopback only: 127.0.0.0/8 and ::1.
Acl loopback_acl();

class Server {
public:
    // Binds now (throws std::system_error naming the call); the thread
    // starts serving at once. wake::install() must have been called.
    Server(const Endpoint& where, Acl acl, std::string version);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    const Endpoint& where() const { return where_; }
    const Acl& acl() const { return acl_; }

private:
    void run();
    void serve(Fd client);

    Endpoint where_;
    Acl acl_;
    std::string version_;
    Fd socket_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace tcpproxy::metrics
