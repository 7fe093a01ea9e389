// Sessions per client and service (client_limit.hpp).
#include "tcpproxy/session/client_limit.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace tcpproxy {

namespace {

using Key = std::pair<const Service*, std::array<std::uint8_t, 16>>;

std::mutex mutex;
std::map<Key, unsigned> held; // only clients holding at least one session

Key key_of(const Service* s, const IpAddress& ip)
{
    auto bytes = ip.bytes;
    if (ip.is_v4())
        bytes[15] = 4; // never a /64 prefix with ::/64 bits set: v4 and v6 keys stay apart
    return {s, bytes};
}

} // namespace

IpAddress client_key(const IpAddress& client)
{
    IpAddress k = client.unmapped();
    if (!k.is_v4())
        for (std::size_t i = 8; i < 16; ++i)
            k.bytes[i] = 0;
    return k;
}

std::optional<ClientSlot> ClientSlot::take(const Service* service, const IpAddress& client, unsigned max)
{
    ClientSlot slot;
    slot.key_ = client_key(client);
    std::lock_guard lock(mutex);
    auto& n = held[key_of(service, slot.key_)];
    if (n >= max) {
        if (n == 0)
            held.erase(key_of(service, slot.key_));
        return std::nullopt;
    }
    ++n;
    slot.service_ = service;
    return slot;
}

ClientSlot& ClientSlot::operator=(ClientSlot&& o) noexcept
{
    if (this != &o) {
        release();
        service_ = std::exchange(o.service_, nullptr);
        key_ = o.key_;
    }
    return *this;
}

void ClientSlot::release() noexcept
{
    if (!service_)
        return;
    std::lock_guard lock(mutex);
    const auto it = held.find(key_of(service_, key_));
    if (it != held.end() && --it->second == 0)
        held.erase(it);
    service_ = nullptr;
}

} // namespace tcpproxy
