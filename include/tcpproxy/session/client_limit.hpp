#pragma once
// max-per-client (tcpproxy.conf(5)): how many sessions each client holds in
// each service, so that one source cannot take every session slot. IPv6
// clients count per /64 (one host usually owns a whole /64). Counted here,
// not in the session pool: a refused session still takes its slot for the
// moment it takes to log the refusal, and the pool knows nothing of services.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/net/address.hpp"

#include <optional>

namespace tcpproxy {

// One session counted against its client; the count drops when it goes.
class ClientSlot {
public:
    ClientSlot() = default;
    ClientSlot(ClientSlot&& o) noexcept : service_(o.service_), key_(o.key_) { o.service_ = nullptr; }
    ClientSlot& operator=(ClientSlot&& o) noexcept;
    ClientSlot(const ClientSlot&) = delete;
    ClientSlot& operator=(const ClientSlot&) = delete;
    ~ClientSlot() { release(); }

    // A slot when `client` holds fewer than `max` sessions of `service`, else nullopt.
    static std::optional<ClientSlot> take(const Service* service, const IpAddress& client, unsigned max);
    void release() noexcept;

private:
    const Service* service_ = nullptr;
    IpAddress key_;
};

// What a client is counted as: an IPv4 address as it is, an IPv6 one as its /64.
IpAddress client_key(const IpAddress& client);

} // namespace tcpproxy
