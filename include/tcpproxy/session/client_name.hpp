#pragma once
// The client's host name (CLIENTNAME, clientname=): a PTR record says
// whatever its zone's owner wants, so a name is used only when it is made of
// [A-Za-z0-9.-] and resolves back to the client's address (forward-confirmed);
// otherwise the client is named by its address, as when it has no name.
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/net/address.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

using ForwardLookup = std::function<std::vector<IpAddress>(const std::string& name)>;

// `ptr` as host_name_of() gave it (the address itself when there is none).
std::string confirmed_client_name(const IpAddress& client, const std::string& ptr, const ForwardLookup& forward);

// The addresses `name` resolves to (getaddrinfo); none when it does not.
std::vector<IpAddress> forward_addresses(const std::string& name);

// How long a session waits for its client's name (the PTR lookup and its
// forward confirmation together), tcpproxy(1) SECURITY: a silent resolver
// would otherwise hold the session's slot for its own timeout (5 s per try).
inline constexpr std::int64_t name_lookup_budget_ms = 2000;

// The forward-confirmed name of `client` (as confirmed_client_name() on the
// system's resolver), waiting at most `budget_ms` on `activity`'s clock;
// nullopt when the budget ran out, the session was stopped, or every
// resolver thread is taken by lookups that hang.
std::optional<std::string> client_name_within(const IpAddress& client, const Activity& activity,
                                              std::int64_t budget_ms = name_lookup_budget_ms);

} // namespace tcpproxy
