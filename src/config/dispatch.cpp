#include "tcpproxy/config/dispatch.hpp"

#include <algorithm>

namespace tcpproxy {

const PortConfig* find_port(const Config& config, std::uint16_t port)
{
    const PortConfig* any = nullptr;
    for (const auto& p : config.ports) {
        if (p.port == port)
            return &p;
        if (p.port == 0 && !any)
            any = &p;
    }
    return any;
}

const Service* match_service(const PortConfig& port, const IpAddress& local, const NicLookup& nic_addresses)
{
    const IpAddress here = local.unmapped();
    for (const auto& s : port.services) {
        switch (s.interface.kind) {
        case InterfaceSpec::Kind::any:
            return &s;
        case InterfaceSpec::Kind::address:
            if (s.interface.address.unmapped() == here)
                return &s;
            break;
        case InterfaceSpec::Kind::nic: {
            // Asked each time: the NIC's address may have changed since start.
            const auto addrs = nic_addresses(s.interface.name);
            if (std::any_of(addrs.begin(), addrs.end(), [&](const IpAddress& a) { return a.unmapped() == here; }))
                return &s;
            break;
        }
        }
    }
    return nullptr;
}

} // namespace tcpproxy
