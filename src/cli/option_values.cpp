#include "tcpproxy/cli/option_values.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace tcpproxy::cli {

std::string quoted(std::string_view text)
{
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", c);
            out += hex.data();
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

Parsed<unsigned> parse_seconds(std::string_view text)
{
    // from_chars stops at the first non-digit ("5s" would read as 5), so the
    // whole text is checked to be digits first.
    bool digits = !text.empty();
    for (char c : text)
        digits = digits && c >= '0' && c <= '9';
    if (!digits)
        return {std::nullopt, quoted(text) + " is not a number of seconds"};
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range || value > max_timeout || end != text.data() + text.size())
        return {std::nullopt, std::string(text) + " seconds is out of range (0-" +
                                  std::to_string(max_timeout) + ")"};
    return {static_cast<unsigned>(value), {}};
}

Parsed<RedirectMode> parse_redirect_mode(std::string_view text)
{
    static constexpr std::array<std::pair<std::string_view, RedirectMode>, 5> modes{{
        {"none", RedirectMode::none},
        {"accept", RedirectMode::accept},
        {"forward", RedirectMode::forward},
        {"forward-only", RedirectMode::forward_only},
        {"only", RedirectMode::forward_only},
    }};
    for (const auto& [name, mode] : modes)
        if (text == name)
            return {mode, {}};
    return {std::nullopt, quoted(text) +
                              " is not a redirect mode (none, accept, forward, forward-only, only)"};
}

Parsed<IpAddress> parse_ip(std::string_view text)
{
    std::optional<IpAddress> ip;
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        ip = IpAddress::parse_v6(text.substr(1, text.size() - 2));
    else
        ip = IpAddress::parse(text);
    if (!ip)
        return {std::nullopt, quoted(text) + " is not an IPv4 or IPv6 address"};
    return {*ip, {}};
}

namespace {

std::string_view trim_blanks(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

Parsed<Acl> parse_acl_list(std::string_view text)
{
    Acl acl;
    std::string_view rest = text;
    for (;;) {
        const auto comma = rest.find(',');
        const std::string_view item = trim_blanks(rest.substr(0, comma));
        if (item.empty())
            return {std::nullopt, "empty ACL item in " + quoted(text)};
        AclItemParse parsed = parse_acl_item(item);
        if (!parsed.item)
            return {std::nullopt, "ACL item " + quoted(item) + ": " + parsed.error};
        acl.push_back(*parsed.item);
        if (comma == std::string_view::npos)
            break;
        rest.remove_prefix(comma + 1);
    }
    return {std::move(acl), {}};
}

Parsed<SessionOption> parse_session_option(std::string_view text)
{
    // Split at the first two commas only: the handler path may hold commas.
    const auto first = text.find(',');
    const std::string_view mode_text = text.substr(0, first);
    std::string_view dir, handler;
    if (first != std::string_view::npos) {
        const std::string_view rest = text.substr(first + 1);
        const auto second = rest.find(',');
        dir = rest.substr(0, second);
        if (second != std::string_view::npos)
            handler = rest.substr(second + 1);
    }

    SessionOption opt;
    opt.dir = dir;
    opt.handler = handler;
    if (mode_text == "none")
        return {std::move(opt), {}};
    if (mode_text == "keep")
        opt.mode = SessionMode::keep;
    else if (mode_text == "process")
        opt.mode = SessionMode::process;
    else
        return {std::nullopt, quoted(mode_text) + " is not a session mode (none, keep, process)"};

    if (dir.empty())
        return {std::nullopt, "mode " + std::string(mode_text) + " needs a session DIR (" +
                                  std::string(mode_text) + ",DIR" +
                                  (opt.mode == SessionMode::process ? ",HANDLER)" : ")")};
    if (opt.mode == SessionMode::process && handler.empty())
        return {std::nullopt, "mode process needs a HANDLER (process,DIR,HANDLER)"};
    return {std::move(opt), {}};
}

bool valid_var_prefix(std::string_view text)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0))
            return false;
    }
    return true;
}

bool valid_logname(std::string_view text)
{
    if (text.empty())
        return false;
    for (unsigned char c : text)
        if (c <= 0x20 || c == 0x7f || c == '/')
            return false;
    return true;
}

} // namespace tcpproxy::cli
