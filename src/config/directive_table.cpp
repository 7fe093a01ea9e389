// Every directive of reference §3.3: level, arity, usage, and which value of
// the grammar's vocabulary (tcpproxy/grammar/values.hpp) each argument is.
// What is decided here is only what needs the context: where a value is
// stored, repeated settings, lists that span arguments.
#include "directive_table.hpp"

#include "tcpproxy/config/values.hpp"
#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <array>
#include <charconv>

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

// A parsed value; a wrong one is reported at `offset` and is empty.
template <typename T>
std::optional<T> reported(DirectiveUse& u, std::size_t offset, Result<T> parsed) {
    if (parsed)
        return std::move(*parsed);
    u.report.error(offset, std::move(parsed.error().message));
    return std::nullopt;
}

// Where a wrong value is shown: at its first byte; an empty one at its quote.
std::size_t position(const DirectiveUse& u, const ast::Argument& a) {
    return a.text.empty() ? u.report.begin_of(a) : u.report.text_of(a);
}

// Argument i read by a value rule (grammar/values.hpp, config/values.hpp).
template <typename Rule>
auto value(DirectiveUse& u, Rule rule, std::size_t i = 0) {
    const auto& a = arg(u, i);
    return reported(u, position(u, a), rule(a.text));
}

// A path or name that must not be empty.
std::string non_empty(DirectiveUse& u, std::string_view what) {
    const auto& a = arg(u);
    if (a.text.empty())
        u.report.error(u.report.begin_of(a), "empty " + std::string(what));
    return a.text;
}

// The program and arguments of exec/exit-handler.
std::vector<std::string> words(const DirectiveUse& u) {
    std::vector<std::string> out;
    out.reserve(u.directive.arguments.size());
    for (const auto& a : u.directive.arguments)
        out.push_back(a.text);
    return out;
}

// The items of a comma separated list that may span several arguments
// ("a, b,c" is three items: blanks are allowed after commas only), each with
// the offset of its first byte in the config text. Each argument is split by
// the grammar's list rule; how arguments join is the config file's own.
struct Item {
    std::string_view text;
    std::size_t offset;
};
std::vector<Item> list(DirectiveUse& u, std::string_view what) {
    const auto& args = u.directive.arguments;
    const std::string name(what);
    std::vector<Item> items;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const std::size_t base = u.report.text_of(a);
        const bool goes_on = a.text.ends_with(',');
        if (i > 0 && !args[i - 1].text.ends_with(','))
            u.report.error(base, name + " items are separated by commas: ',' missing before '" + a.text + "'");
        const auto pieces = grammar::list_items(a.text);
        for (std::size_t k = 0; k < pieces.size(); ++k) {
            if (!pieces[k].text.empty())
                items.push_back({pieces[k].text, base + pieces[k].offset});
            else if (k + 1 < pieces.size() || !goes_on) // (the piece after a final comma goes on in the next argument)
                u.report.error(base + pieces[k].offset, "empty " + name + " item");
        }
        if (goes_on && i + 1 == args.size())
            u.report.error(base + a.text.size() - 1, "the " + name + " list ends with ','");
    }
    return items;
}

// --- global-only --------------------------------------------------------

void apply_standalone(DirectiveUse& u) { set(u, u.global.standalone, value(u, grammar::yes_no).value_or(true)); }
void apply_pidfile(DirectiveUse& u) { set(u, u.global.pidfile, non_empty(u, "pidfile path")); }
void apply_statdir(DirectiveUse& u) { set(u, u.global.statdir, non_empty(u, "status directory")); }
void apply_session_dir(DirectiveUse& u) { set(u, u.global.session_dir, non_empty(u, "session directory")); }
void apply_session_mode(DirectiveUse& u) { set_parsed(u, u.global.session_mode, value(u, grammar::session_mode)); }

void apply_exit_code(DirectiveUse& u) {
    StatusSet codes = 0;
    for (const auto& item : list(u, "exit code"))
        codes |= reported(u, item.offset, grammar::exit_code(item.text)).value_or(0);
    set(u, u.global.exit_codes, codes);
}

void apply_exit_handler(DirectiveUse& u) {
    value(u, grammar::program);
    set(u, u.global.exit_handler, words(u));
}

void apply_max_sessions(DirectiveUse& u) {
    set(u, u.global.max_sessions, value(u, grammar::max_sessions).value_or(1024));
}

// COUNT [BYTES], each 0 (no limit) or a number up to 2^50. Read here, not by
// a grammar rule: the grammar room is being rewritten (to be ported there).
void apply_session_keep_limit(DirectiveUse& u) {
    KeepLimit limit;
    std::uint64_t* fields[] = {&limit.files, &limit.bytes};
    bool valid = true;
    for (std::size_t i = 0; i < u.directive.arguments.size(); ++i) {
        const auto& a = arg(u, i);
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(a.text.data(), a.text.data() + a.text.size(), n);
        if (a.text.empty() || ec != std::errc{} || end != a.text.data() + a.text.size() || n > (std::uint64_t{1} << 50)) {
            u.report.error(position(u, a), "session-keep-limit " + std::string(i == 0 ? "COUNT " : "BYTES ") +
                                               text::quoted(a.text) + " is not 0 (no limit) or a number up to 2^50");
            valid = false;
            continue;
        }
        *fields[i] = n;
    }
    set_parsed(u, u.global.session_keep_limit, valid ? std::optional(limit) : std::nullopt);
}

// --- service ------------------------------------------------------------

void apply_server(DirectiveUse& u) {
    std::vector<Upstream> servers;
    for (std::size_t i = 0; i < u.directive.arguments.size(); ++i)
        if (auto upstream = value(u, parse_upstream, i))
            servers.push_back(std::move(*upstream));
    set(u, u.service.servers, std::move(servers));
}

void apply_exec(DirectiveUse& u) {
    value(u, grammar::program);
    set(u, u.service.exec, words(u));
}

// The ACL items of an acl-like line.
Acl acl_items(DirectiveUse& u) {
    Acl acl;
    for (const auto& item : list(u, "ACL")) {
        auto entry = reported(u, item.offset, grammar::acl_item(item.text));
        if (!entry)
            continue;
        if (entry->host_bits)
            u.report.warning(item.offset, "host bits of '" + std::string(item.text) +
                                              "' beyond the mask are ignored: it means " +
                                              entry->item.network.str() + "/" + std::to_string(entry->item.prefix));
        acl.push_back(entry->item);
    }
    return acl;
}

// Repeated acl lines of one level add up.
void add_acl(DirectiveUse& u, Slot<Acl>& slot) {
    auto acl = acl_items(u);
    if (slot)
        slot->value.insert(slot->value.end(), acl.begin(), acl.end());
    else
        slot = Setting<Acl>{std::move(acl), &u.directive};
}

void apply_acl(DirectiveUse& u) { add_acl(u, u.service.acl); }

void apply_metrics(DirectiveUse& u) { set_parsed(u, u.global.metrics, value(u, parse_metrics_address)); }
void apply_metrics_acl(DirectiveUse& u) { add_acl(u, u.global.metrics_acl); }

void apply_acp(DirectiveUse& u) { set(u, u.service.acp, value(u, grammar::program).value_or("")); }

void apply_timeout(DirectiveUse& u) { set(u, u.service.timeout, value(u, grammar::seconds).value_or(60)); }

void apply_redirect_mode(DirectiveUse& u) {
    set(u, u.service.redirect, value(u, grammar::redirect_mode).value_or(RedirectMode::none));
}

void apply_srcip(DirectiveUse& u) { set(u, u.service.srcip, value(u, grammar::ip_address).value_or(IpAddress{})); }

void apply_rotate(DirectiveUse& u) {
    auto first = value(u, grammar::ip_address, 0);
    auto last = value(u, grammar::ip_address, 1);
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
    const auto& a = arg(u);
    auto [known, fresh] = u.lookups.users.try_emplace(a.text);
    if (fresh)
        known->second = parse_identity(a.text);
    set(u, u.service.user, reported(u, position(u, a), known->second).value_or(Identity{}));
}

void apply_writefile(DirectiveUse& u) { set(u, u.service.capture, Capture{non_empty(u, "capture basename"), false}); }
void apply_debug(DirectiveUse& u) { set(u, u.service.capture, Capture{non_empty(u, "capture basename"), true}); }

void apply_extended_info(DirectiveUse& u) {
    set(u, u.service.extended_info, value(u, grammar::yes_no).value_or(false));
}

void apply_logname(DirectiveUse& u) {
    value(u, grammar::logname);
    set(u, u.service.logname, arg(u).text);
}

void apply_name(DirectiveUse& u) { set(u, u.service.name, arg(u).text); }

void apply_setenv(DirectiveUse& u) {
    value(u, grammar::var_prefix);
    set(u, u.service.var_prefix, arg(u).text);
}

void apply_proxy_protocol(DirectiveUse& u) {
    set(u, u.service.proxy_protocol, value(u, grammar::proxy_protocol).value_or(0));
}

void apply_accept_proxy(DirectiveUse& u) { set(u, u.service.accept_proxy, value(u, grammar::yes_no).value_or(false)); }

void apply_max_per_client(DirectiveUse& u) {
    set(u, u.service.max_per_client, value(u, grammar::max_per_client).value_or(0));
}

void apply_accept_proxy_from(DirectiveUse& u) { set(u, u.service.accept_proxy_from, acl_items(u)); }

void apply_proxy_header_timeout(DirectiveUse& u) {
    set(u, u.service.proxy_header_timeout, value(u, grammar::proxy_header_seconds).value_or(5));
}

void apply_writefile_limit(DirectiveUse& u) {
    set(u, u.service.writefile_limit, value(u, grammar::byte_count).value_or(0));
}

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
    DirectiveSpec{"session-keep-limit", S::global_only, 1, 2, "session-keep-limit COUNT [BYTES]",
                  apply_session_keep_limit},
    DirectiveSpec{"metrics", S::global_only, 1, 1, "metrics ADDRESS:PORT", apply_metrics},
    DirectiveSpec{"metrics-acl", S::global_only, 1, many, "metrics-acl [+|-]ADDR[/MASK][, ...]", apply_metrics_acl},

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
    DirectiveSpec{"max-per-client", S::service, 1, 1, "max-per-client N", apply_max_per_client},
    DirectiveSpec{"writefile-limit", S::service, 1, 1, "writefile-limit BYTES", apply_writefile_limit},
    DirectiveSpec{"accept-proxy-from", S::service, 1, many, "accept-proxy-from ITEM[,ITEM...]",
                  apply_accept_proxy_from},
    DirectiveSpec{"proxy-header-timeout", S::service, 1, 1, "proxy-header-timeout SECONDS",
                  apply_proxy_header_timeout},

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
