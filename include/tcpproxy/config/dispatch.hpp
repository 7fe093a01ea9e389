#pragma once
// Which section serves a connection (reference §4.2): by the local address
// the client reached, in file order. Pure: the NIC lookup is passed in.
#include "tcpproxy/config/config.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tcpproxy {

using NicLookup = std::function<std::vector<IpAddress>(const std::string& nic)>;

// The port block for `port`; a block with port 0 (inetd mode from the command
// line) serves any local port.
const PortConfig* find_port(const Config& config, std::uint16_t port);

// The first section whose interface matches `local`, or null (status ACCESS).
// IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
const Service* match_service(const PortConfig& port, const IpAddress& local, const NicLookup& nic_addresses);

} // namespace tcpproxy
