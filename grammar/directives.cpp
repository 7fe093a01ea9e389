// Every directive of reference §3.3: its level, its usage line and the X3
// rule that reads its arguments into its typed value (ast::Value). The
// rules run over a line's argument words, not its characters: the line
// rule (config_grammar_def.hpp) has already split and unquoted them, so a
// value is checked the same whether it was quoted or not. A rule's
// expectation points give the argument count errors ("too many arguments"
// at the first extra word); a wrong value is reported at its column and
// reading goes on, so every wrong value of a line is reported in one run.
//
// The second of the grammar's two Spirit units (with config_grammar.cpp):
// only X3's core headers, no character rules.
#include "config_grammar.hpp"
#include "ast_adapted.hpp"
#include "error_handler.hpp"

#include "tcpproxy/grammar/directives.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <boost/spirit/home/x3.hpp>

#include <array>
#include <functional>
#include <type_traits>

namespace tcpproxy::grammar {

namespace {

using token_iterator = std::vector<ast::Argument>::const_iterator;
using Severity = Diagnostic::Severity;

struct handler_tag;

// A parser of `Words` or more argument words, `Derived::read` turning them
// into its attribute; it fails only when fewer words are left.
template <typename Derived, typename Attribute, std::size_t Words = 1>
struct token_parser : x3::parser<Derived> {
    using attribute_type = Attribute;
    static const bool has_attribute = true;

    template <typename Context, typename RContext, typename Attr>
    bool parse(token_iterator& first, const token_iterator& last, const Context& context, RContext&, Attr& attr) const
    {
        if (static_cast<std::size_t>(last - first) < Words)
            return false;
        ErrorHandler& handler = x3::get<handler_tag>(context).get();
        auto value = static_cast<const Derived&>(*this).read(first, last, handler);
        if constexpr (std::is_same_v<Attr, Attribute>)
            attr = std::move(value);
        else
            x3::traits::move_to(std::move(value), attr);
        return true;
    }
};

// One word as written.
struct word_parser : token_parser<word_parser, std::string> {
    std::string read(token_iterator& first, const token_iterator&, ErrorHandler&) const { return (first++)->text; }
};

// One word read by a value function of values.hpp; a wrong one is reported
// at its column and leaves the value empty.
template <auto Check>
using checked_value = typename std::invoke_result_t<decltype(Check), std::string_view>::value_type;

template <auto Check>
struct checked_parser : token_parser<checked_parser<Check>, std::optional<checked_value<Check>>> {
    std::optional<checked_value<Check>> read(token_iterator& first, const token_iterator&, ErrorHandler& h) const
    {
        const auto& word = *first++;
        auto value = Check(word.text);
        if (value)
            return std::move(*value);
        h.argument_problem(Severity::error, value_at(word), std::move(value.error().message));
        return std::nullopt;
    }
};

// One word kept as written, once Check has had its say.
template <auto Check>
struct checked_word_parser : token_parser<checked_word_parser<Check>, std::string> {
    std::string read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        const auto& word = *first;
        checked_parser<Check>{}.read(first, last, h);
        return word.text;
    }
};

// IP-START IP-END: two addresses of one family, in order.
struct range_parser : token_parser<range_parser, ast::AddressRange, 2> {
    ast::AddressRange read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        const auto& from = *first;
        const auto& to = *std::next(first);
        ast::AddressRange range{checked_parser<&ip_address>{}.read(first, last, h),
                                checked_parser<&ip_address>{}.read(first, last, h)};
        if (range.first && range.last) {
            if (range.first->family != range.last->family)
                h.argument_problem(Severity::error, text_of(to),
                                   "'" + to.text + "' is not of the same address family as '" + from.text + "'");
            else if (*range.last < *range.first)
                h.argument_problem(Severity::error, text_of(to),
                                   "the range ends before it starts: '" + to.text + "' is below '" + from.text + "'");
        }
        return range;
    }
};

// COUNT [BYTES]: the second word only when there is one.
struct keep_limit_parser : token_parser<keep_limit_parser, ast::KeepLimit> {
    ast::KeepLimit read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        ast::KeepLimit limit;
        limit.files = checked_parser<&keep_limit>{}.read(first, last, h);
        if (first != last) {
            limit.bytes_given = true;
            limit.bytes = checked_parser<&keep_limit>{}.read(first, last, h);
        }
        return limit;
    }
};

// A path or name that must not be empty (`what` names it in the message).
template <const char* What>
Result<std::string_view> not_empty(std::string_view text)
{
    if (text.empty())
        return fail("empty " + std::string(What));
    return text;
}
constexpr char pidfile_path[] = "pidfile path";
constexpr char status_directory[] = "status directory";
constexpr char session_directory[] = "session directory";
constexpr char capture_basename[] = "capture basename";

// PROGRAM [ARG...]: every word, the first checked as a program.
struct program_parser : token_parser<program_parser, ast::Words> {
    ast::Words read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        checked_parser<&program>{}.read(first, last, h);
        ast::Words words{{std::prev(first)->text}};
        for (; first != last; ++first)
            words.items.push_back(first->text);
        return words;
    }
};

// Every word as written (server: validation reads them, with /etc/services).
struct words_parser : token_parser<words_parser, ast::Words> {
    ast::Words read(token_iterator& first, const token_iterator& last, ErrorHandler&) const
    {
        ast::Words words;
        for (; first != last; ++first)
            words.items.push_back(first->text);
        return words;
    }
};

// The items of a comma separated list that may span several words ("a,
// b,c" is three items: blanks are allowed after commas only), each with the
// offset of its first byte in the config text. Each word is split by
// values.hpp's list_items; how words join is the config file's own.
struct Item {
    std::string_view text;
    std::size_t offset;
};
std::vector<Item> list(token_iterator& first, const token_iterator& last, ErrorHandler& h, const std::string& name)
{
    std::vector<Item> items;
    for (auto it = first; it != last; ++it) {
        const auto& a = *it;
        const std::size_t base = text_of(a);
        const bool goes_on = a.text.ends_with(',');
        if (it != first && !std::prev(it)->text.ends_with(','))
            h.argument_problem(Severity::error, base,
                               name + " items are separated by commas: ',' missing before '" + a.text + "'");
        const auto pieces = list_items(a.text);
        for (std::size_t k = 0; k < pieces.size(); ++k) {
            if (!pieces[k].text.empty())
                items.push_back({pieces[k].text, base + pieces[k].offset});
            else if (k + 1 < pieces.size() || !goes_on) // (the piece after a final comma goes on in the next word)
                h.argument_problem(Severity::error, base + pieces[k].offset, "empty " + name + " item");
        }
        if (goes_on && std::next(it) == last)
            h.argument_problem(Severity::error, base + a.text.size() - 1, "the " + name + " list ends with ','");
    }
    first = last;
    return items;
}

struct exit_codes_parser : token_parser<exit_codes_parser, ast::ExitCodes> {
    ast::ExitCodes read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        ast::ExitCodes codes;
        for (const auto& item : list(first, last, h, "exit code")) {
            if (auto code = exit_code(item.text))
                codes.codes |= *code;
            else
                h.argument_problem(Severity::error, item.offset, std::move(code.error().message));
        }
        return codes;
    }
};

struct acl_parser : token_parser<acl_parser, ast::AclList> {
    ast::AclList read(token_iterator& first, const token_iterator& last, ErrorHandler& h) const
    {
        ast::AclList acl;
        for (const auto& item : list(first, last, h, "ACL")) {
            auto entry = acl_item(item.text);
            if (!entry) {
                h.argument_problem(Severity::error, item.offset, std::move(entry.error().message));
                continue;
            }
            if (entry->host_bits)
                h.argument_problem(Severity::warning, item.offset,
                                   "host bits of '" + std::string(item.text) +
                                       "' beyond the mask are ignored: it means " + entry->item.network.str() + "/" +
                                       std::to_string(entry->item.prefix));
            acl.items.push_back(entry->item);
        }
        return acl;
    }
};

const auto end = x3::eoi;
const word_parser word{};
template <auto Check>
const checked_parser<Check> checked{};
template <auto Check>
const checked_word_parser<Check> checked_word{};

// --- each directive's arguments -------------------------------------------

const auto word_arg = word > end;
const auto yes_no_arg = checked<&yes_no> > end;
const auto seconds_arg = checked<&seconds> > end;
const auto pidfile_arg = checked_word<&not_empty<pidfile_path>> > end;
const auto statdir_arg = checked_word<&not_empty<status_directory>> > end;
const auto session_dir_arg = checked_word<&not_empty<session_directory>> > end;
const auto capture_arg = checked_word<&not_empty<capture_basename>> > end;
const auto session_mode_arg = checked<&session_mode> > end;
const auto exit_codes_arg = exit_codes_parser{};
const auto program_args = program_parser{};
const auto max_sessions_arg = checked<&max_sessions> > end;
const auto acl_args = acl_parser{};
const auto servers_args = words_parser{};
const auto acp_arg = checked<&program> > end;
const auto redirect_mode_arg = checked<&redirect_mode> > end;
const auto address_arg = checked<&ip_address> > end;
const auto rotate_args = range_parser{} > end;
const auto logname_arg = checked_word<&logname> > end;
const auto var_prefix_arg = checked_word<&var_prefix> > end;
const auto proxy_protocol_arg = checked<&proxy_protocol> > end;
const auto max_per_client_arg = checked<&max_per_client> > end;
const auto bytes_arg = checked<&byte_count> > end;
const auto proxy_header_seconds_arg = checked<&proxy_header_seconds> > end;
const auto keep_limit_args = keep_limit_parser{} > end;

// Runs `Parser` over the directive's words into its value. A wrong count is
// reported alone: the values' problems are dropped then.
template <typename Attribute, const auto& Parser>
void read(ast::Directive& d, ErrorHandler& h, const DirectiveInfo& info)
{
    const auto usage = [&] { return " for '" + d.keyword + "' (usage: " + std::string(info.usage) + ")"; };
    auto first = d.arguments.cbegin();
    const auto last = d.arguments.cend();
    Attribute value{};
    bool read_whole = false;
    try {
        read_whole = x3::parse(first, last, x3::with<handler_tag>(std::ref(h))[Parser], value);
    } catch (const x3::expectation_failure<token_iterator>& x) {
        if (x.where() != last) {
            h.drop_argument_problems();
            h.argument_error(*x.where(), "too many arguments" + usage());
            return;
        }
    }
    if (!read_whole) {
        h.drop_argument_problems();
        h.directive_error(d, (d.arguments.empty() ? "missing argument" : "missing arguments") + usage());
        return;
    }
    h.keep_argument_problems();
    d.value = std::move(value);
}

using Reader = void (*)(ast::Directive&, ErrorHandler&, const DirectiveInfo&);
struct Entry {
    DirectiveInfo info;
    Reader read;
};

using L = Level;

const std::array table{
    // keyword, level, usage; the attribute and rule of its arguments
    Entry{{"standalone", L::global_only, "standalone yes|no"}, read<std::optional<bool>, yes_no_arg>},
    Entry{{"pidfile", L::global_only, "pidfile PATH"}, read<std::string, pidfile_arg>},
    Entry{{"statdir", L::global_only, "statdir DIR"}, read<std::string, statdir_arg>},
    Entry{{"session-dir", L::global_only, "session-dir DIR"}, read<std::string, session_dir_arg>},
    Entry{{"session-mode", L::global_only, "session-mode none|keep|process"},
          read<std::optional<SessionMode>, session_mode_arg>},
    Entry{{"exit-code", L::global_only, "exit-code NAME[,NAME...]"}, read<ast::ExitCodes, exit_codes_arg>},
    Entry{{"exit-handler", L::global_only, "exit-handler PROGRAM [ARG...]"}, read<ast::Words, program_args>},
    Entry{{"max-sessions", L::global_only, "max-sessions N"}, read<std::optional<unsigned>, max_sessions_arg>},
    Entry{{"session-keep-limit", L::global_only, "session-keep-limit COUNT [BYTES]"},
          read<ast::KeepLimit, keep_limit_args>},
    Entry{{"metrics", L::global_only, "metrics ADDRESS:PORT"}, read<std::string, word_arg>},
    Entry{{"metrics-acl", L::global_only, "metrics-acl [+|-]ADDR[/MASK][, ...]"}, read<ast::AclList, acl_args>},

    Entry{{"server", L::service, "server HOST[:PORT] [HOST[:PORT]...]"}, read<ast::Words, servers_args>},
    Entry{{"exec", L::service, "exec PROGRAM [ARG...]"}, read<ast::Words, program_args>},
    Entry{{"acl", L::service, "acl [+|-]ADDR[/MASK][, ...]"}, read<ast::AclList, acl_args>},
    Entry{{"acp", L::service, "acp PROGRAM"}, read<std::optional<std::string>, acp_arg>},
    Entry{{"timeout", L::service, "timeout SECONDS"}, read<std::optional<unsigned>, seconds_arg>},
    Entry{{"redirect-mode", L::service, "redirect-mode none|accept|forward|forward-only"},
          read<std::optional<RedirectMode>, redirect_mode_arg>},
    Entry{{"srcip", L::service, "srcip IP"}, read<std::optional<IpAddress>, address_arg>},
    Entry{{"rotate", L::service, "rotate IP-START IP-END"}, read<ast::AddressRange, rotate_args>},
    Entry{{"user", L::service, "user USER[.GROUP]"}, read<std::string, word_arg>},
    Entry{{"writefile", L::service, "writefile BASENAME"}, read<std::string, capture_arg>},
    Entry{{"debug", L::service, "debug BASENAME"}, read<std::string, capture_arg>},
    Entry{{"extended-info", L::service, "extended-info yes|no"}, read<std::optional<bool>, yes_no_arg>},
    Entry{{"logname", L::service, "logname NAME"}, read<std::string, logname_arg>},
    Entry{{"name", L::service, "name TEXT"}, read<std::string, word_arg>},
    Entry{{"setenv", L::service, "setenv PREFIX"}, read<std::string, var_prefix_arg>},
    Entry{{"proxy-protocol", L::service, "proxy-protocol v1|v2"}, read<std::optional<int>, proxy_protocol_arg>},
    Entry{{"accept-proxy", L::service, "accept-proxy yes|no"}, read<std::optional<bool>, yes_no_arg>},
    Entry{{"max-per-client", L::service, "max-per-client N"}, read<std::optional<unsigned>, max_per_client_arg>},
    Entry{{"writefile-limit", L::service, "writefile-limit BYTES"}, read<std::optional<std::uint64_t>, bytes_arg>},
    Entry{{"accept-proxy-from", L::service, "accept-proxy-from ITEM[,ITEM...]"}, read<ast::AclList, acl_args>},
    Entry{{"proxy-header-timeout", L::service, "proxy-header-timeout SECONDS"},
          read<std::optional<unsigned>, proxy_header_seconds_arg>},

    Entry{{"port", L::port, "port PORT"}, read<std::string, word_arg>},
    Entry{{"interface", L::interface, "interface IFACE"}, read<std::string, word_arg>},
};

std::array<DirectiveInfo, table.size()> infos()
{
    std::array<DirectiveInfo, table.size()> out;
    for (std::size_t i = 0; i < table.size(); ++i)
        out[i] = table[i].info;
    return out;
}

// Keyword dispatch.
const x3::symbols<const Entry*>& keywords()
{
    static const auto symbols = [] {
        x3::symbols<const Entry*> s;
        for (const auto& entry : table)
            s.add(entry.info.keyword, &entry);
        return s;
    }();
    return symbols;
}

const Entry* find(std::string_view keyword)
{
    const Entry* entry = nullptr;
    auto it = keyword.begin();
    if (x3::parse(it, keyword.end(), keywords() >> x3::eoi, entry))
        return entry;
    return nullptr;
}

} // namespace

std::span<const DirectiveInfo> directives()
{
    static const auto all = infos();
    return all;
}

const DirectiveInfo* find_directive(std::string_view keyword)
{
    const Entry* entry = find(keyword);
    return entry ? &entry->info : nullptr;
}

void read_arguments(ast::Directive& directive, ErrorHandler& handler)
{
    if (const Entry* entry = find(directive.keyword)) {
        directive.info = &entry->info;
        entry->read(directive, handler, entry->info);
    }
}

} // namespace tcpproxy::grammar
