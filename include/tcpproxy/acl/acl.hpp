#pragma once
// Client access lists (reference §4.3): the longest matching prefix decides,
// deny wins a tie, and an ACL with no matching item denies.
#include "tcpproxy/net/address.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpproxy {

struct AclItem {
    bool allow = true;
    IpAddress network;   // host bits already cleared
    unsigned prefix = 0; // 0..32 or 0..128
    friend bool operator==(const AclItem&, const AclItem&) = default;
};

using Acl = std::vector<AclItem>;

// Result of parsing one `[+|-]ADDR[/MASK]` item.
struct AclItemParse {
    std::optional<AclItem> item;
    std::string error;      // set when item is empty
    bool host_bits = false; // valid, but ADDR had bits beyond the mask (a warning)
};
AclItemParse parse_acl_item(std::string_view text);

// True when the client may connect. An empty ACL allows everyone.
bool acl_allows(const Acl& acl, const IpAddress& client);

} // namespace tcpproxy
