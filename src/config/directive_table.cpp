// What each directive of reference §3.3 does with its typed value (the
// grammar read it: grammar/directives.cpp): which setting of its level it
// stores, and the checks that need the context or the system (repeated
// settings, ACL lines that add up, user names, server and metrics ports).
#include "directive_table.hpp"

#include "tcpproxy/config/values.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <array>

namespace tcpproxy::config {

namespace {

// Stores a level's setting. A setting whose argument was wrong is stored as
// its default all the same: it was given, so "neither server nor exec" or
// "incomplete session set" must not be reported on top of the real error.
template <typename T, typename V>
void set(DirectiveUse& use, Slot<T>& slot, V&& value)
{
    if (slot) {
        const auto& first = *slot->from;
        const auto where = std::to_string(use.report.line_of(first));
        if (first.keyword == use.directive.keyword)
            use.report.error(use.directive, "'" + first.keyword + "' is already set at this level on line " + where);
        else
            use.report.error(use.directive, "'" + use.directive.keyword + "' conflicts with '" + first.keyword +
                                                "' on line " + where + ": both set the same thing at this level");
        return;
    }
    slot = Setting<T>{T(std::forward<V>(value)), &use.directive, true};
}

// As set(), for a value whose parse may have failed.
template <typename T>
void set_parsed(DirectiveUse& use, Slot<T>& slot, std::optional<T> value)
{
    set(use, slot, value.value_or(T{}));
    if (slot && slot->from == &use.directive)
        slot->valid = value.has_value();
}

const ast::Argument& arg(DirectiveUse& use, std::size_t i = 0) { return use.directive.arguments[i]; }

// A parsed value; a wrong one is reported at `offset` and is empty.
template <typename T>
std::optional<T> reported(DirectiveUse& u, std::size_t offset, Result<T> parsed)
{
    if (parsed)
        return std::move(*parsed);
    u.report.error(offset, std::move(parsed.error().message));
    return std::nullopt;
}

// Argument i read by a value function that needs the system (config/values.hpp).
template <typename Rule>
auto value(DirectiveUse& u, Rule rule, std::size_t i = 0)
{
    const auto& a = arg(u, i);
    return reported(u, grammar::value_at(a), rule(a.text));
}

// The directive's value as its grammar rule typed it.
template <typename T>
const T& typed(const DirectiveUse& u)
{
    return std::get<T>(u.directive.value);
}

// --- global-only --------------------------------------------------------

void apply_standalone(DirectiveUse& u) { set(u, u.global.standalone, typed<std::optional<bool>>(u).value_or(true)); }
void apply_pidfile(DirectiveUse& u) { set(u, u.global.pidfile, typed<std::string>(u)); }
void apply_statdir(DirectiveUse& u) { set(u, u.global.statdir, typed<std::string>(u)); }
void apply_session_dir(DirectiveUse& u) { set(u, u.global.session_dir, typed<std::string>(u)); }
void apply_session_mode(DirectiveUse& u) { set_parsed(u, u.global.session_mode, typed<std::optional<SessionMode>>(u)); }
void apply_exit_code(DirectiveUse& u) { set(u, u.global.exit_codes, typed<ast::ExitCodes>(u).codes); }
void apply_exit_handler(DirectiveUse& u) { set(u, u.global.exit_handler, typed<ast::Words>(u).items); }
void apply_max_sessions(DirectiveUse& u)
{
    set(u, u.global.max_sessions, typed<std::optional<unsigned>>(u).value_or(1024));
}
void apply_metrics(DirectiveUse& u) { set_parsed(u, u.global.metrics, value(u, parse_metrics_address)); }

// Repeated acl lines of one level add up.
void add_acl(DirectiveUse& u, Slot<Acl>& slot)
{
    const auto& acl = typed<ast::AclList>(u).items;
    if (slot)
        slot->value.insert(slot->value.end(), acl.begin(), acl.end());
    else
        slot = Setting<Acl>{acl, &u.directive};
}

void apply_metrics_acl(DirectiveUse& u) { add_acl(u, u.global.metrics_acl); }

void apply_session_keep_limit(DirectiveUse& u)
{
    const auto& given = typed<ast::KeepLimit>(u);
    KeepLimit limit;
    limit.files = given.files.value_or(limit.files);
    if (given.bytes_given)
        limit.bytes = given.bytes.value_or(limit.bytes);
    set(u, u.global.session_keep_limit, limit);
}

// --- service ------------------------------------------------------------

void apply_server(DirectiveUse& u)
{
    std::vector<Upstream> servers;
    for (std::size_t i = 0; i < u.directive.arguments.size(); ++i)
        if (auto upstream = value(u, parse_upstream, i))
            servers.push_back(std::move(*upstream));
    set(u, u.service.servers, std::move(servers));
}

void apply_exec(DirectiveUse& u) { set(u, u.service.exec, typed<ast::Words>(u).items); }
void apply_acl(DirectiveUse& u) { add_acl(u, u.service.acl); }
void apply_acp(DirectiveUse& u) { set(u, u.service.acp, typed<std::optional<std::string>>(u).value_or("")); }
void apply_timeout(DirectiveUse& u) { set(u, u.service.timeout, typed<std::optional<unsigned>>(u).value_or(60)); }

void apply_redirect_mode(DirectiveUse& u)
{
    set(u, u.service.redirect, typed<std::optional<RedirectMode>>(u).value_or(RedirectMode::none));
}

void apply_srcip(DirectiveUse& u) { set(u, u.service.srcip, typed<std::optional<IpAddress>>(u).value_or(IpAddress{})); }

void apply_rotate(DirectiveUse& u)
{
    const auto& [first, last] = typed<ast::AddressRange>(u);
    set(u, u.service.rotate, std::pair{first.value_or(IpAddress{}), last.value_or(IpAddress{})});
}

void apply_user(DirectiveUse& u)
{
    const auto& a = arg(u);
    auto [known, fresh] = u.lookups.users.try_emplace(a.text);
    if (fresh)
        known->second = parse_identity(a.text);
    set(u, u.service.user, reported(u, grammar::value_at(a), known->second).value_or(Identity{}));
}

void apply_writefile(DirectiveUse& u) { set(u, u.service.capture, Capture{typed<std::string>(u), false}); }
void apply_debug(DirectiveUse& u) { set(u, u.service.capture, Capture{typed<std::string>(u), true}); }

void apply_extended_info(DirectiveUse& u)
{
    set(u, u.service.extended_info, typed<std::optional<bool>>(u).value_or(false));
}

void apply_logname(DirectiveUse& u) { set(u, u.service.logname, typed<std::string>(u)); }
void apply_name(DirectiveUse& u) { set(u, u.service.name, typed<std::string>(u)); }
void apply_setenv(DirectiveUse& u) { set(u, u.service.var_prefix, typed<std::string>(u)); }

void apply_proxy_protocol(DirectiveUse& u)
{
    set(u, u.service.proxy_protocol, typed<std::optional<int>>(u).value_or(0));
}

void apply_accept_proxy(DirectiveUse& u)
{
    set(u, u.service.accept_proxy, typed<std::optional<bool>>(u).value_or(false));
}

void apply_max_per_client(DirectiveUse& u)
{
    set(u, u.service.max_per_client, typed<std::optional<unsigned>>(u).value_or(0));
}

void apply_accept_proxy_from(DirectiveUse& u) { set(u, u.service.accept_proxy_from, typed<ast::AclList>(u).items); }

void apply_proxy_header_timeout(DirectiveUse& u)
{
    set(u, u.service.proxy_header_timeout, typed<std::optional<unsigned>>(u).value_or(5));
}

void apply_writefile_limit(DirectiveUse& u)
{
    set(u, u.service.writefile_limit, typed<std::optional<std::uint64_t>>(u).value_or(0));
}

const std::array table{
    DirectiveApply{"standalone", apply_standalone},
    DirectiveApply{"pidfile", apply_pidfile},
    DirectiveApply{"statdir", apply_statdir},
    DirectiveApply{"session-dir", apply_session_dir},
    DirectiveApply{"session-mode", apply_session_mode},
    DirectiveApply{"exit-code", apply_exit_code},
    DirectiveApply{"exit-handler", apply_exit_handler},
    DirectiveApply{"max-sessions", apply_max_sessions},
    DirectiveApply{"session-keep-limit", apply_session_keep_limit},
    DirectiveApply{"metrics", apply_metrics},
    DirectiveApply{"metrics-acl", apply_metrics_acl},

    DirectiveApply{"server", apply_server},
    DirectiveApply{"exec", apply_exec},
    DirectiveApply{"acl", apply_acl},
    DirectiveApply{"acp", apply_acp},
    DirectiveApply{"timeout", apply_timeout},
    DirectiveApply{"redirect-mode", apply_redirect_mode},
    DirectiveApply{"srcip", apply_srcip},
    DirectiveApply{"rotate", apply_rotate},
    DirectiveApply{"user", apply_user},
    DirectiveApply{"writefile", apply_writefile},
    DirectiveApply{"debug", apply_debug},
    DirectiveApply{"extended-info", apply_extended_info},
    DirectiveApply{"logname", apply_logname},
    DirectiveApply{"name", apply_name},
    DirectiveApply{"setenv", apply_setenv},
    DirectiveApply{"proxy-protocol", apply_proxy_protocol},
    DirectiveApply{"accept-proxy", apply_accept_proxy},
    DirectiveApply{"max-per-client", apply_max_per_client},
    DirectiveApply{"writefile-limit", apply_writefile_limit},
    DirectiveApply{"accept-proxy-from", apply_accept_proxy_from},
    DirectiveApply{"proxy-header-timeout", apply_proxy_header_timeout},
};

} // namespace

const DirectiveApply* find_apply(std::string_view keyword)
{
    for (const auto& entry : table)
        if (entry.keyword == keyword)
            return &entry;
    return nullptr;
}

std::span<const DirectiveApply> directive_table() { return table; }

} // namespace tcpproxy::config
