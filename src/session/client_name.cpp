// Forward-confirmed client names (client_name.hpp).
#include "tcpproxy/session/client_name.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

namespace tcpproxy {

namespace {

bool host_name_characters(const std::string& name)
{
    return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-';
           });
}

} // namespace

std::string confirmed_client_name(const IpAddress& client, const std::string& ptr, const ForwardLookup& forward)
{
    const IpAddress ip = client.unmapped();
    if (ptr == ip.str() || !host_name_characters(ptr))
        return ip.str();
    for (const auto& a : forward(ptr))
        if (a.unmapped() == ip)
            return ptr;
    return ip.str();
}

std::vector<IpAddress> forward_addresses(const std::string& name)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0)
        return {};
    std::vector<IpAddress> out;
    for (auto* p = res; p; p = p->ai_next)
        if (p->ai_family == AF_INET || p->ai_family == AF_INET6)
            out.push_back(Endpoint::from_sockaddr(p->ai_addr).ip);
    ::freeaddrinfo(res);
    return out;
}

} // namespace tcpproxy
