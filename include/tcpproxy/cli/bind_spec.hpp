#pragma once
// The -b argument, [IFACE:]PORT, split and checked. Shared by the command-line
// parser (to reject a bad -b before anything starts) and by settings (to
// build the one-port Config from it).
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/core/error.hpp"

#include <cstdint>
#include <string_view>

namespace tcpproxy::cli {

struct BindSpec {
    InterfaceSpec interface; // Kind::any with text "*" when IFACE is omitted
    std::uint16_t port = 0;
};

// IFACE is an IPv4 address, an IPv6 address in brackets, `*`/`any` or a NIC
// name; PORT a number 1-65535 or a TCP service name from /etc/services. The
// error completes "option -b: ...".
Result<BindSpec> parse_bind(std::string_view text);

} // namespace tcpproxy::cli
