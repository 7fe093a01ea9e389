#pragma once
// The client's host name (CLIENTNAME, clientname=): a PTR record says
// whatever its zone's owner wants, so a name is used only when it is made of
// [A-Za-z0-9.-] and resolves back to the client's address (forward-confirmed);
// otherwise the client is named by its address, as when it has no name.
#include "tcpproxy/net/address.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tcpproxy {

using ForwardLookup = std::function<std::vector<IpAddress>(const std::string& name)>;

// `ptr` as host_name_of() gave it (the address itself when there is none).
std::string confirmed_client_name(const IpAddress& client, const std::string& ptr, const ForwardLookup& forward);

// The addresses `name` resolves to (getaddrinfo); none when it does not.
std::vector<IpAddress> forward_addresses(const std::string& name);

} // namespace tcpproxy
