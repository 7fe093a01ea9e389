#include "tcpproxy/core/text.hpp"

#include <array>
#include <cstdio>

namespace tcpproxy::text {

namespace {

// Length of a control character starting at in[i], 0 when there is none.
std::size_t control_at(std::string_view in, std::size_t i) noexcept
{
    const auto c = static_cast<unsigned char>(in[i]);
    if (is_control(c))
        return 1;
    if (c == 0xc2 && i + 1 < in.size()) {
        const auto n = static_cast<unsigned char>(in[i + 1]);
        if (n >= 0x80 && n <= 0x9f)
            return 2;
    }
    return 0;
}

} // namespace

bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

std::string clean(std::string_view in, char with)
{
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (const auto n = control_at(in, i)) {
            out += with;
            i += n;
        } else {
            out += in[i++];
        }
    }
    return out;
}

std::string token(std::string_view in, std::string_view also)
{
    if (in.empty())
        return "-";
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (const auto n = control_at(in, i)) {
            out += '_';
            i += n;
        } else {
            const char c = in[i++];
            out += (c == ' ' || also.find(c) != std::string_view::npos) ? '_' : c;
        }
    }
    return out;
}

std::string quoted(std::string_view in)
{
    std::string out = "\"";
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (is_control(c)) {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", c);
            out += hex.data();
        } else {
            out += ch;
        }
    }
    return out + '"';
}

bool printable(std::string_view in) noexcept
{
    for (std::size_t i = 0; i < in.size(); ++i)
        if (control_at(in, i))
            return false;
    return true;
}

} // namespace tcpproxy::text
