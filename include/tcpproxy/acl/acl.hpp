#pragma once
// Client access lists (reference §4.3): the longest matching prefix decides,
// deny wins a tie, and an ACL with no matching item denies. An item's text,
// [+|-]ADDR[/MASK], is parsed by grammar::acl_item (grammar/values.hpp).
#include "tcpproxy/net/address.hpp"

#include <vector>

namespace tcpproxy {

struct AclItem {
    bool allow = true;
    IpAddress network;   // host bits already cleared
    unsigned prefix = 0; // 0..32 or 0..128
    friend bool operator==(const AclItem&, const AclItem&) = default;
};

using Acl = std::vector<AclItem>;

// True when the client may connect. An empty ACL allows everyone.
bool acl_allows(const Acl& acl, const IpAddress& client);

} // namespace tcpproxy
