#include "tcpproxy/acl/acl.hpp"

#include <charconv>

namespace tcpproxy {

namespace {

// A contiguous dotted IPv4 mask (255.255.240.0) -> prefix length.
std::optional<unsigned> dotted_mask_prefix(std::string_view text)
{
    const auto mask = IpAddress::parse_v4(text);
    if (!mask)
        return std::nullopt;
    std::uint32_t m = 0;
    for (int i = 0; i < 4; ++i)
        m = (m << 8) | mask->bytes[static_cast<std::size_t>(i)];
    const std::uint32_t inverted = ~m;
    if ((inverted & (inverted + 1)) != 0) // ones must be contiguous from the top
        return std::nullopt;
    unsigned prefix = 0;
    while (prefix < 32 && (m & (0x80000000u >> prefix)))
        ++prefix;
    return prefix;
}

} // namespace

AclItemParse parse_acl_item(std::string_view text)
{
    AclItemParse r;
    AclItem item;
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        item.allow = text.front() == '+';
        text.remove_prefix(1);
    }
    const auto slash = text.find('/');
    const auto addr_text = text.substr(0, slash);
    const auto addr = IpAddress::parse(addr_text);
    if (!addr) {
        r.error = "\"" + std::string(addr_text) + "\" is not a full IPv4 or IPv6 address";
        return r;
    }
    item.prefix = addr->bits();
    if (slash != std::string_view::npos) {
        const auto mask = text.substr(slash + 1);
        unsigned prefix = 0;
        const auto* end = mask.data() + mask.size();
        const auto [p, ec] = std::from_chars(mask.data(), end, prefix);
        if (!mask.empty() && ec == std::errc{} && p == end) {
            if (prefix > addr->bits()) {
                r.error = "prefix length /" + std::string(mask) + " is out of range 0-" + std::to_string(addr->bits());
                return r;
            }
            item.prefix = prefix;
        } else if (addr->is_v4() && mask.find('.') != std::string_view::npos) {
            const auto dotted = dotted_mask_prefix(mask);
            if (!dotted) {
                r.error = "\"" + std::string(mask) + "\" is not a contiguous netmask";
                return r;
            }
            item.prefix = *dotted;
        } else {
            r.error = "\"" + std::string(mask) + "\" is not a prefix length or netmask";
            return r;
        }
    }
    item.network = addr->masked(item.prefix);
    r.host_bits = item.network != *addr;
    r.item = item;
    return r;
}

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
