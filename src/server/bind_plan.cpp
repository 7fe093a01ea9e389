#include "bind_plan.hpp"

#include <algorithm>

namespace tcpproxy {

BindPlan bind_plan(const PortConfig& port)
{
    BindPlan plan;
    plan.wildcard = port.services.empty();
    for (const auto& s : port.services) {
        if (s.interface.kind != InterfaceSpec::Kind::address) {
            plan.wildcard = true;
            break;
        }
        const IpAddress a = s.interface.address.unmapped();
        if (std::find(plan.addresses.begin(), plan.addresses.end(), a) == plan.addresses.end())
            plan.addresses.push_back(a);
    }
    if (plan.wildcard)
        plan.addresses.clear();
    return plan;
}

} // namespace tcpproxy
