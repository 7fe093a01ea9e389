#include "inherit.hpp"

namespace tcpproxy::config {

namespace {

using Levels = std::span<const ServiceLayer* const>;

template <typename T>
const Setting<T>* innermost(Levels levels, Slot<T> ServiceLayer::*member)
{
    for (auto it = levels.rbegin(); it != levels.rend(); ++it)
        if (const auto& slot = (*it)->*member)
            return &*slot;
    return nullptr;
}

template <typename T>
void inherit(T& target, Levels levels, Slot<T> ServiceLayer::*member)
{
    if (const auto* setting = innermost(levels, member))
        target = setting->value;
}

// The innermost level that sets either member of a pair.
template <typename A, typename B>
const ServiceLayer* deciding_level(Levels levels, Slot<A> ServiceLayer::*a, Slot<B> ServiceLayer::*b)
{
    for (auto it = levels.rbegin(); it != levels.rend(); ++it)
        if ((*it)->*a || (*it)->*b)
            return *it;
    return nullptr;
}

template <typename A, typename B>
void report_both(const Slot<A>& a, const Slot<B>& b, Reporter& report)
{
    if (!a || !b)
        return;
    const auto* first = a->from;
    const auto* second = b->from;
    if (grammar::begin_of(*second) < grammar::begin_of(*first))
        std::swap(first, second);
    report.error(*second, "'" + second->keyword + "' and '" + first->keyword + "' (line " +
                              std::to_string(report.line_of(*first)) +
                              ") are both set at this level: a service has only one of them");
}

} // namespace

ResolvedService resolve_service(Levels levels, InterfaceSpec interface, int line)
{
    ResolvedService r;
    Service& s = r.service;
    s.interface = std::move(interface);
    s.line = line;
    for (const auto* level : levels)
        r.incomplete = r.incomplete || level->incomplete;

    if (const auto* level = deciding_level(levels, &ServiceLayer::servers, &ServiceLayer::exec)) {
        r.has_handler = true;
        if (level->servers)
            s.servers = level->servers->value;
        else
            s.exec = level->exec->value;
    }
    // Both may apply; the session uses rotate then (tcpproxy.conf(5)).
    if (const auto* srcip = innermost(levels, &ServiceLayer::srcip))
        s.srcip = srcip->value;
    if (const auto* rotate = innermost(levels, &ServiceLayer::rotate))
        s.rotate = rotate->value;
    inherit(s.acl, levels, &ServiceLayer::acl);
    inherit(s.acp, levels, &ServiceLayer::acp);
    inherit(s.timeout, levels, &ServiceLayer::timeout);
    inherit(s.redirect, levels, &ServiceLayer::redirect);
    inherit(s.user, levels, &ServiceLayer::user);
    if (const auto* capture = innermost(levels, &ServiceLayer::capture)) {
        s.writefile = capture->value.basename;
        s.debug = capture->value.debug;
    }
    inherit(s.extended_info, levels, &ServiceLayer::extended_info);
    inherit(s.logname, levels, &ServiceLayer::logname);
    inherit(s.name, levels, &ServiceLayer::name);
    inherit(s.var_prefix, levels, &ServiceLayer::var_prefix);
    inherit(s.proxy_protocol, levels, &ServiceLayer::proxy_protocol);
    inherit(s.accept_proxy, levels, &ServiceLayer::accept_proxy);
    inherit(s.max_per_client, levels, &ServiceLayer::max_per_client);
    if (const auto* from = innermost(levels, &ServiceLayer::accept_proxy_from))
        s.accept_proxy_from = from->value;
    inherit(s.proxy_header_timeout, levels, &ServiceLayer::proxy_header_timeout);
    inherit(s.writefile_limit, levels, &ServiceLayer::writefile_limit);
    return r;
}

void check_exclusive(const ServiceLayer& layer, Reporter& report) { report_both(layer.servers, layer.exec, report); }

} // namespace tcpproxy::config
