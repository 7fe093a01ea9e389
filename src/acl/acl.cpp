#include "tcpproxy/acl/acl.hpp"

namespace tcpproxy {

bool acl_allows(const Acl& acl, const IpAddress& client)
{
    if (acl.empty())
        return true;
    const IpAddress who = client.unmapped();
    int best = -1;
    bool allow = false;
    for (const auto& item : acl) {
        if (!item.network.same_prefix(who, item.prefix))
            continue;
        const int len = static_cast<int>(item.prefix);
        if (len > best) {
            best = len;
            allow = item.allow;
        } else if (len == best && !item.allow) {
            allow = false; // deny wins a tie
        }
    }
    return best >= 0 && allow;
}

} // namespace tcpproxy
