#pragma once
// The one way text from outside (peers, DNS, handlers, files, the command
// line) is made safe before it reaches a log line, a terminal, a file name or
// an environment variable. Everything is built on is_control(): C0 (0x00-0x1f,
// tab included), DEL (0x7f) and the C1 controls U+0080-U+009F as UTF-8
// (0xc2 0x80-0x9f), which terminals also obey.
#include <string>
#include <string_view>

namespace tcpproxy::text {

bool is_control(unsigned char c) noexcept;

// Every control character replaced by `with` (a C1 control's two bytes by
// one); the rest unchanged. For messages, environment values, log text.
std::string clean(std::string_view in, char with = '?');

// One field of a space-separated line or one file-name component: controls,
// blanks and every character of `also` replaced by '_'; "-" when empty.
std::string token(std::string_view in, std::string_view also = "");

// User input quoted inside a message: "..." with control characters as \xNN
// and '"' and '\' escaped, so the line stays one line and reads back exactly.
std::string quoted(std::string_view in);

// True when `in` holds no control character (names checked, not repaired).
bool printable(std::string_view in) noexcept;

} // namespace tcpproxy::text
