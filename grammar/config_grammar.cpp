// The translation unit that instantiates the config grammar's character
// rules (the directives' word rules are directives.cpp's): Spirit's compile
// time is paid here and there only. It holds the line rule's instantiation
// and the value functions of values.hpp, each running one rule of
// config_grammar_def.hpp over one whole word.
#include "config.hpp"
#include "config_grammar_def.hpp"

#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <charconv>

namespace tcpproxy::grammar {

namespace parser {
BOOST_SPIRIT_INSTANTIATE(line_type, iterator_type, context_type)
} // namespace parser

namespace {

namespace v = parser::values;

// True when `p` matches the whole of `text`, its attribute in `out`.
template <typename Parser, typename Attribute>
bool whole(std::string_view text, const Parser& p, Attribute& out)
{
    auto it = text.begin();
    return x3::parse(it, text.end(), p >> x3::eoi, out);
}

template <typename Parser>
bool whole(std::string_view text, const Parser& p)
{
    auto it = text.begin();
    return x3::parse(it, text.end(), p >> x3::eoi);
}

// A decimal number: empty when `text` is not all digits, a value beyond
// every range when it has too many digits.
std::optional<unsigned long long> number(std::string_view text)
{
    std::string digits;
    if (!whole(text, v::digits, digits))
        return std::nullopt;
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size())
        return ~0ull; // more digits than any range here
    return value;
}

// The error of a word that is not one of `choices`.
template <typename T>
Result<T> one_of(std::string_view text, const x3::symbols<T>& table, std::string_view what, std::string_view choices)
{
    T value{};
    if (whole(text, table, value))
        return value;
    return fail(text::quoted(text) + " is not " + std::string(what) + " (" + std::string(choices) + ")");
}

// A contiguous dotted IPv4 mask (255.255.240.0) -> prefix length.
std::optional<unsigned> dotted_mask_prefix(std::string_view text)
{
    const auto mask = IpAddress::parse_v4(text);
    if (!mask)
        return std::nullopt;
    std::uint32_t m = 0;
    for (std::size_t i = 0; i < 4; ++i)
        m = (m << 8) | mask->bytes[i];
    const std::uint32_t inverted = ~m;
    if ((inverted & (inverted + 1)) != 0) // ones must be contiguous from the top
        return std::nullopt;
    unsigned prefix = 0;
    while (prefix < 32 && (m & (0x80000000u >> prefix)))
        ++prefix;
    return prefix;
}

std::string range(unsigned low, unsigned high) { return std::to_string(low) + "-" + std::to_string(high); }

} // namespace

Result<unsigned> seconds(std::string_view text)
{
    const auto n = number(text);
    if (!n)
        return fail(text::quoted(text) + " is not a number of seconds");
    if (*n > max_timeout)
        return fail(std::string(text) + " seconds is out of range (" + range(0, max_timeout) + ")");
    return static_cast<unsigned>(*n);
}

Result<unsigned> max_per_client(std::string_view text)
{
    const auto n = number(text);
    if (!n || *n < 1 || *n > max_max_sessions)
        return fail("max-per-client " + text::quoted(text) + " is not a number in " + range(1, max_max_sessions));
    return static_cast<unsigned>(*n);
}

Result<std::uint64_t> byte_count(std::string_view text)
{
    constexpr std::uint64_t most = std::uint64_t{1} << 50;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > most)
        return fail("writefile-limit " + text::quoted(text) + " is not a number of bytes in 1.." +
                    std::to_string(most));
    return n;
}

Result<std::uint64_t> keep_limit(std::string_view text)
{
    constexpr std::uint64_t most = std::uint64_t{1} << 50;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n > most)
        return fail("session-keep-limit " + text::quoted(text) + " is not 0 (no limit) or a number up to 2^50");
    return n;
}

Result<unsigned> proxy_header_seconds(std::string_view text)
{
    const auto n = number(text);
    if (!n || *n < 1 || *n > max_timeout)
        return fail("proxy-header-timeout " + text::quoted(text) + " is not a number of seconds in " +
                    range(1, max_timeout));
    return static_cast<unsigned>(*n);
}

Result<unsigned> max_sessions(std::string_view text)
{
    const auto n = number(text);
    if (!n)
        return fail(text::quoted(text) + " is not a number (max-sessions: " + range(1, max_max_sessions) + ")");
    if (*n < 1 || *n > max_max_sessions)
        return fail("max-sessions " + std::string(text) + " is out of range (" + range(1, max_max_sessions) + ")");
    return static_cast<unsigned>(*n);
}

Result<bool> yes_no(std::string_view text)
{
    bool value = false;
    if (whole(text, v::yes_no, value))
        return value;
    return fail("expected yes or no, not " + text::quoted(text));
}

Result<RedirectMode> redirect_mode(std::string_view text)
{
    return one_of(text, v::redirect_mode, "a redirect mode", "none, accept, forward, forward-only, only");
}

Result<SessionMode> session_mode(std::string_view text)
{
    return one_of(text, v::session_mode, "a session mode", "none, keep, process");
}

Result<int> proxy_protocol(std::string_view text)
{
    return one_of(text, v::proxy_protocol, "a PROXY protocol version", "v1, v2");
}

Result<std::string> var_prefix(std::string_view text)
{
    std::string value;
    if (whole(text, v::var_prefix, value))
        return value;
    return fail(text::quoted(text) +
                " is not a usable variable prefix (letters, digits and \"_\", not starting with a digit)");
}

Result<std::string> logname(std::string_view text)
{
    std::string value;
    if (whole(text, v::logname, value))
        return value;
    return fail(text::quoted(text) + " is not a usable name (it names files: no blanks, control characters or \"/\")");
}

Result<IpAddress> ip_address(std::string_view text)
{
    IpAddress value;
    if (whole(text, v::ip_address, value))
        return value;
    return fail(text::quoted(text) + " is not an IPv4 or IPv6 address");
}

Result<HostPort> host_port(std::string_view text)
{
    HostPort parts;
    boost::iterator_range<iterator_type> host, port;
    auto it = text.begin();
    const auto end = text.end();
    if (x3::parse(it, end, '[' >> x3::raw[*(x3::char_ - ']')] >> ']', host)) {
        parts.bracketed = true;
        if (!IpAddress::parse_v6(std::string_view(host.begin(), host.size())))
            return fail(text::quoted(text.substr(0, host.size() + 2)) + " is not an IPv6 address");
    } else if (text.starts_with('[')) {
        return fail("no \"]\" closing the IPv6 address in " + text::quoted(text));
    } else {
        x3::parse(it, end, x3::raw[*(x3::char_ - ':')], host);
    }
    parts.host = std::string_view(host.begin(), host.size());
    if (it == end)
        return parts;
    if (!x3::parse(it, end, ':' >> x3::raw[*x3::char_], port))
        return fail("expected :PORT after the IPv6 address in " + text::quoted(text));
    parts.port = std::string_view(port.begin(), port.size());
    if (!parts.bracketed && parts.port->find(':') != std::string_view::npos)
        return fail("an IPv6 address must be in brackets, as in [::1]:8080; got " + text::quoted(text));
    return parts;
}

Result<std::string> program(std::string_view text)
{
    std::string value;
    if (whole(text, v::program, value))
        return value;
    if (text.empty())
        return fail("empty program path");
    return fail("program " + text::quoted(text) + " is not an absolute path");
}

bool is_program(std::string_view server)
{
    auto it = server.begin();
    return x3::parse(it, server.end(), v::program_operand);
}

std::vector<ListItem> list_items(std::string_view word)
{
    std::vector<ListItem> items;
    const auto keep = [&](auto& ctx) {
        const auto item = x3::_attr(ctx);
        std::size_t first = static_cast<std::size_t>(item.begin() - word.begin());
        std::size_t last = static_cast<std::size_t>(item.end() - word.begin());
        // Blanks around items happen inside a quoted list: "a, b".
        while (first < last && (word[first] == ' ' || word[first] == '\t'))
            ++first;
        while (last > first && (word[last - 1] == ' ' || word[last - 1] == '\t'))
            --last;
        items.push_back({word.substr(first, last - first), first});
    };
    auto it = word.begin();
    x3::parse(it, word.end(), v::list_item[keep] % ',');
    return items;
}

Result<AclEntry> acl_item(std::string_view text)
{
    ast::AclText parts;
    whole(text, v::acl_text, parts); // matches every text: the parts are checked here
    const auto address = IpAddress::parse(parts.address);
    if (!address)
        return fail(text::quoted(parts.address) + " is not a full IPv4 or IPv6 address");
    AclEntry entry;
    entry.item.allow = parts.allow.value_or(true);
    entry.item.prefix = address->bits();
    if (parts.mask) {
        const std::string& mask = *parts.mask;
        if (const auto n = number(mask)) {
            if (*n > address->bits())
                return fail("prefix length /" + mask + " is out of range 0-" + std::to_string(address->bits()));
            entry.item.prefix = static_cast<unsigned>(*n);
        } else if (address->is_v4() && mask.find('.') != std::string::npos) {
            const auto prefix = dotted_mask_prefix(mask);
            if (!prefix)
                return fail(text::quoted(mask) + " is not a contiguous netmask");
            entry.item.prefix = *prefix;
        } else {
            return fail(text::quoted(mask) + " is not a prefix length or netmask");
        }
    }
    entry.item.network = address->masked(entry.item.prefix);
    entry.host_bits = entry.item.network != *address;
    return entry;
}

Result<StatusSet> exit_code(std::string_view text)
{
    StatusSet value = 0;
    if (whole(text, x3::no_case[v::exit_code], value))
        return value;
    return fail("unknown exit code " + text::quoted(text) +
                " (expected ok, warning, access, connect, timeout, server, client, proxy or any)");
}

} // namespace tcpproxy::grammar
