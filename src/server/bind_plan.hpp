#pragma once
// What a port's listener binds (pure): the specific addresses when every
// section of the port names an address, otherwise the wildcard (IPv4 and
// IPv6), since a `*` or NIC-name section may match any local address.
#include "tcpproxy/config/config.hpp"

#include <vector>

namespace tcpproxy {

struct BindPlan {
    bool wildcard = true;
    std::vector<IpAddress> addresses; // when not wildcard: distinct, in file order
    friend bool operator==(const BindPlan&, const BindPlan&) = default;
};

BindPlan bind_plan(const PortConfig& port);

} // namespace tcpproxy
