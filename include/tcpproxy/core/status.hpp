#pragma once
// The session statuses of reference §6: names and numbers are defined here
// once and used everywhere else by name.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tcpproxy {

enum class Status : std::uint8_t { ok = 0, warning, access, connect, timeout, server, client, proxy };

inline constexpr std::array<std::string_view, 8> status_names{"OK",      "WARNING", "ACCESS", "CONNECT",
                                                              "TIMEOUT", "SERVER",  "CLIENT", "PROXY"};

constexpr int status_code(Status s) { return static_cast<int>(s); }
constexpr std::string_view status_name(Status s) { return status_names[static_cast<std::size_t>(s)]; }

// A set of statuses, as given by an `exit-code` list.
using StatusSet = std::uint8_t;
constexpr StatusSet status_bit(Status s) { return static_cast<StatusSet>(1u << status_code(s)); }
inline constexpr StatusSet all_statuses = 0xff;

} // namespace tcpproxy
