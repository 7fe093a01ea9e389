// Every directive of reference §3.3: level, arity, usage and argument rules.
#include "directive_table.hpp"

#include "argument_values.hpp"
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/config/values.hpp"
#include "tcpproxy/core/status.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>
#include <array>

namespace tcpproxy::config {

namespace {

// Stores a level's setting. A setting whose argument was wrong is stored as
// its default all the same: it was given, so "neither server nor exec" or
// "incomplete session set" must not be reported on top of the real error.
template <typename T, typename V>
void set(DirectiveUse& use, Slot<T>& slot, V&& value) {
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
void set_parsed(DirectiveUse& use, Slot<T>& slot, std::optional<T> value) {
    set(use, slot, value.value_or(T{}));
    if (slot && slot->from == &use.directive)
        slot->valid = value.has_value();
}

const ast::Argument& arg(DirectiveUse& use, std::size_t i = 0) { return use.directive.arguments[i]; }

std::string text_or_empty(DirectiveUse& use, std::string_view what) {
    return non_empty(use.report, arg(use), what).value_or("");
}

// --- global-only --------------------------------------------------------

void apply_standalone(DirectiveUse& u) { set(u, u.global.standalone, yes_no(u.report, arg(u)).value_or(true)); }
void apply_pidfile(DirectiveUse& u) { set(u, u.global.pidfile, text_or_empty(u, "pidfile path")); }
void apply_statdir(DirectiveUse& u) { set(u, u.global.statdir, text_or_empty(u, "status directory")); }
void apply_session_dir(DirectiveUse& u) { set(u, u.global.session_dir, text_or_empty(u, "session directory")); }

void apply_session_mode(DirectiveUse& u) {
    auto mode = one_of<SessionMode>(u.report, arg(u), "session mode",
                                    {{"none", SessionMode::none}, {"keep", SessionMode::keep},
                                     {"process", SessionMode::process}});
    set_parsed(u, u.global.session_mode, mode);
}

void apply_exit_code(DirectiveUse& u) {
    StatusSet codes = 0;
    for (const auto& item : list_items(u.report, u.directive.arguments, "exit code")) {
        if (boost::algorithm::iequals(item.text, "any"))
            codes = all_statuses;
        else if (auto status = parse_status(item.text))
            codes |= status_bit(*status);
        else
            u.report.error(item.offset, "unknown exit code '" + item.text +
                                            "' (expected ok, warning, access, connect, timeout, server, "
                                            "client, proxy or any)");
    }
    set(u, u.global.exit_codes, codes);
}

void apply_exit_handler(DirectiveUse& u) {
    program(u.report, arg(u));
    set(u, u.global.exit_handler, words(u.directive.arguments));
}

void apply_max_sessions(DirectiveUse& u) {
    set(u, u.global.max_sessions, number_in(u.report, arg(u), 1, 100000, "max-sessions").value_or(1024));
}

// --- service ------------------------------------------------------------

void apply_server(DirectiveUse& u) {
    std::vector<Upstream> servers;
    for (const auto& a : u.directive.arguments) {
        auto parsed = parse_upstream(a.text);
        if (parsed.upstream)
            servers.push_back(*parsed.upstream);
        else
            u.report.error(u.report.text_of(a), parsed.error);
    }
    set(u, u.service.servers, std::move(servers));
}

void apply_exec(DirectiveUse& u) {
    program(u.report, arg(u));
    set(u, u.service.exec, words(u.directive.arguments));
}

void apply_acl(DirectiveUse& u) {
    Acl acl;
    for (const auto& item : list_items(u.report, u.directive.arguments, "ACL")) {
        auto parsed = parse_acl_item(item.text);
        if (!parsed.item) {
            u.report.error(item.offset, parsed.error);
            continue;
        }
        if (parsed.host_bits)
            u.report.warning(item.offset, "host bits of '" + item.text + "' beyond the mask are ignored: it means " +
                                              parsed.item->network.str() + "/" +
                                              std::to_string(parsed.item->prefix));
        acl.push_back(*parsed.item);
    }
    // Repeated acl lines of one level add up.
    if (u.service.acl)
        u.service.acl->value.insert(u.service.acl->value.end(), acl.begin(), acl.end());
    else
        u.service.acl = Setting<Acl>{std::move(acl), &u.directive};
}

void apply_acp(DirectiveUse& u) { set(u, u.service.acp, program(u.report, arg(u)).value_or("")); }

void apply_timeout(DirectiveUse& u) {
    set(u, u.service.timeout, number_in(u.report, arg(u), 0, 31536000, "timeout").value_or(60));
}

void apply_redirect_mode(DirectiveUse& u) {
    auto mode = one_of<RedirectMode>(u.report, arg(u), "redirect mode",
                                     {{"none", RedirectMode::none},
                                      {"accept", RedirectMode::accept},
                                      {"forward", RedirectMode::forward},
                                      {"forward-only", RedirectMode::forward_only},
                                      {"only", RedirectMode::forward_only}});
    set(u, u.service.redirect, mode.value_or(RedirectMode::none));
}

void apply_srcip(DirectiveUse& u) { set(u, u.service.srcip, ip_address(u.report, arg(u)).value_or(IpAddress{})); }

void apply_rotate(DirectiveUse& u) {
    auto first = ip_address(u.report, arg(u, 0));
    auto last = ip_address(u.report, arg(u, 1));
    if (first && last) {
        if (first->family != last->family)
            u.report.error(u.report.text_of(arg(u, 1)), "'" + arg(u, 1).text + "' is not of the same address family as '" +
                                                            arg(u, 0).text + "'");
        else if (*last < *first)
            u.report.error(u.report.text_of(arg(u, 1)), "the range ends before it starts: '" + arg(u, 1).text +
                                                            "' is below '" + arg(u, 0).text + "'");
    }
    set(u, u.service.rotate, std::pair{first.value_or(IpAddress{}), last.value_or(IpAddress{})});
}

void apply_user(DirectiveUse& u) {
    auto parsed = parse_identity(arg(u).text);
    if (!parsed.identity)
        u.report.error(u.report.text_of(arg(u)), parsed.error);
    set(u, u.service.user, parsed.identity.value_or(Identity{}));
}

void apply_writefile(DirectiveUse& u) { set(u, u.service.capture, Capture{text_or_empty(u, "capture basename"), false}); }
void apply_debug(DirectiveUse& u) { set(u, u.service.capture, Capture{text_or_empty(u, "capture basename"), true}); }

void apply_extended_info(DirectiveUse& u) { set(u, u.service.extended_info, yes_no(u.report, arg(u)).value_or(false)); }

void apply_logname(DirectiveUse& u) {
    const auto& a = arg(u);
    // The log name is part of status and session file names.
    if (a.text.empty() || a.text.find_first_of("/ \t") != std::string::npos)
        u.report.error(u.report.begin_of(a), "'" + a.text + "' cannot be a log name: it names files (no '/' or blanks, not empty)");
    set(u, u.service.logname, a.text);
}

void apply_name(DirectiveUse& u) { set(u, u.service.name, arg(u).text); }

void apply_setenv(DirectiveUse& u) {
    const auto& a = arg(u);
    const bool valid = !a.text.empty() && !std::isdigit(static_cast<unsigned char>(a.text[0])) &&
                       std::all_of(a.text.begin(), a.text.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                       });
    if (!valid)
        u.report.error(u.report.begin_of(a), "'" + a.text + "' is not a variable prefix (letters, digits and '_', "
                                                            "not starting with a digit)");
    set(u, u.service.var_prefix, a.text);
}

void apply_proxy_protocol(DirectiveUse& u) {
    set(u, u.service.proxy_protocol, one_of<int>(u.report, arg(u), "PROXY protocol version", {{"v1", 1}, {"v2", 2}}).value_or(0));
}

void apply_accept_proxy(DirectiveUse& u) { set(u, u.service.accept_proxy, yes_no(u.report, arg(u)).value_or(false)); }

using S = Scope;

const std::array table{
    // keyword          scope             args      usage
    DirectiveSpec{"standalone", S::global_only, 1, 1, "standalone yes|no", apply_standalone},
    DirectiveSpec{"pidfile", S::global_only, 1, 1, "pidfile PATH", apply_pidfile},
    DirectiveSpec{"statdir", S::global_only, 1, 1, "statdir DIR", apply_statdir},
    DirectiveSpec{"session-dir", S::global_only, 1, 1, "session-dir DIR", apply_session_dir},
    DirectiveSpec{"session-mode", S::global_only, 1, 1, "session-mode none|keep|process", apply_session_mode},
    DirectiveSpec{"exit-code", S::global_only, 1, many, "exit-code NAME[,NAME...]", apply_exit_code},
    DirectiveSpec{"exit-handler", S::global_only, 1, many, "exit-handler PROGRAM [ARG...]", apply_exit_handler},
    DirectiveSpec{"max-sessions", S::global_only, 1, 1, "max-sessions N", apply_max_sessions},

    DirectiveSpec{"server", S::service, 1, many, "server HOST[:PORT] [HOST[:PORT]...]", apply_server},
    DirectiveSpec{"exec", S::service, 1, many, "exec PROGRAM [ARG...]", apply_exec},
    DirectiveSpec{"acl", S::service, 1, many, "acl [+|-]ADDR[/MASK][, ...]", apply_acl},
    DirectiveSpec{"acp", S::service, 1, 1, "acp PROGRAM", apply_acp},
    DirectiveSpec{"timeout", S::service, 1, 1, "timeout SECONDS", apply_timeout},
    DirectiveSpec{"redirect-mode", S::service, 1, 1, "redirect-mode none|accept|forward|forward-only", apply_redirect_mode},
    DirectiveSpec{"srcip", S::service, 1, 1, "srcip IP", apply_srcip},
    DirectiveSpec{"rotate", S::service, 2, 2, "rotate IP-START IP-END", apply_rotate},
    DirectiveSpec{"user", S::service, 1, 1, "user USER[.GROUP]", apply_user},
    DirectiveSpec{"writefile", S::service, 1, 1, "writefile BASENAME", apply_writefile},
    DirectiveSpec{"debug", S::service, 1, 1, "debug BASENAME", apply_debug},
    DirectiveSpec{"extended-info", S::service, 1, 1, "extended-info yes|no", apply_extended_info},
    DirectiveSpec{"logname", S::service, 1, 1, "logname NAME", apply_logname},
    DirectiveSpec{"name", S::service, 1, 1, "name TEXT", apply_name},
    DirectiveSpec{"setenv", S::service, 1, 1, "setenv PREFIX", apply_setenv},
    DirectiveSpec{"proxy-protocol", S::service, 1, 1, "proxy-protocol v1|v2", apply_proxy_protocol},
    DirectiveSpec{"accept-proxy", S::service, 1, 1, "accept-proxy yes|no", apply_accept_proxy},

    DirectiveSpec{"port", S::port, 1, 1, "port PORT", nullptr},
    DirectiveSpec{"interface", S::interface, 1, 1, "interface IFACE", nullptr},
};

} // namespace

std::span<const DirectiveSpec> directive_table() { return table; }

const DirectiveSpec* find_directive(std::string_view keyword) {
    for (const auto& spec : table)
        if (spec.keyword == keyword)
            return &spec;
    return nullptr;
}

} // namespace tcpproxy::config
