// The capture file format (see capture.hpp): record headers and the reader.
#include "tcpproxy/report/capture.hpp"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace tcpproxy {
namespace {

// The longest valid header is "DROP C2S " + 20 + "." + 6 + " " + 20 + "\n".
constexpr std::size_t max_header_line = 80;

CaptureHeader make_header(const char* prefix, Direction d, CaptureTime t, std::uint64_t length)
{
    CaptureHeader h;
    const int n = std::snprintf(h.text, sizeof h.text, "%s%s %lld.%06u %llu\n", prefix, direction_tag(d).data(),
                                static_cast<long long>(t.seconds), static_cast<unsigned>(t.micros % 1000000),
                                static_cast<unsigned long long>(length));
    h.size = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof h.text - 1) : 0;
    return h;
}

bool all_digits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <class T>
std::optional<T> parse_digits(std::string_view s)
{
    T v{};
    if (!all_digits(s))
        return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::optional<Direction> parse_direction(std::string_view s)
{
    if (s == "C2S")
        return Direction::client_to_server;
    if (s == "S2C")
        return Direction::server_to_client;
    return std::nullopt;
}

std::optional<CaptureTime> parse_time(std::string_view s)
{
    const auto dot = s.find('.');
    if (dot == std::string_view::npos || s.size() - dot - 1 != 6)
        return std::nullopt;
    const auto sec = parse_digits<std::int64_t>(s.substr(0, dot));
    const auto usec = parse_digits<std::uint32_t>(s.substr(dot + 1));
    if (!sec || !usec)
        return std::nullopt;
    return CaptureTime{*sec, *usec};
}

std::vector<std::string_view> split_blanks(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    for (;;) {
        const auto sp = s.find(' ', pos);
        out.push_back(s.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
        if (sp == std::string_view::npos)
            return out;
        pos = sp + 1;
    }
}

} // namespace

CaptureTime capture_now()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return CaptureTime{static_cast<std::int64_t>(ts.tv_sec), static_cast<std::uint32_t>(ts.tv_nsec / 1000)};
}

CaptureHeader capture_data_header(Direction d, CaptureTime t, std::uint64_t length)
{
    return make_header("", d, t, length);
}

CaptureHeader capture_drop_header(Direction d, CaptureTime t, std::uint64_t length)
{
    return make_header("DROP ", d, t, length);
}

std::string capture_file_path(const std::string& base, pid_t pid, std::uint64_t session_id)
{
    return base + '.' + std::to_string(pid) + '.' + std::to_string(session_id) + ".log";
}

std::optional<CaptureRecord> CaptureReader::fail(std::uint64_t offset, std::string what)
{
    error_offset_ = offset;
    error_ = "byte offset " + std::to_string(offset) + ": " + std::move(what);
    return std::nullopt;
}

std::optional<CaptureRecord> CaptureReader::next()
{
    if (!error_.empty())
        return std::nullopt;
    CaptureRecord r;
    r.offset = offset_;
    std::string line;
    for (;;) {
        const int c = in_.get();
        if (c == std::char_traits<char>::eof()) {
            if (line.empty())
                return std::nullopt; // a clean end between records
            return fail(r.offset, "truncated record header \"" + line + "\"");
        }
        ++offset_;
        if (c == '\n')
            break;
        if (c < ' ' || c > '~')
            return fail(offset_ - 1, "unexpected byte in a record header (not a capture file?)");
        line += static_cast<char>(c);
        if (line.size() >= max_header_line)
            return fail(r.offset, "record header longer than " + std::to_string(max_header_line) + " bytes");
    }

    auto f = split_blanks(line);
    if (f.size() == 4 && f[0] == "DROP") {
        r.drop = true;
        f.erase(f.begin());
    }
    if (f.size() != 3)
        return fail(r.offset, "malformed record header \"" + line + "\"");
    const auto dir = parse_direction(f[0]);
    const auto time = parse_time(f[1]);
    const auto length = parse_digits<std::uint64_t>(f[2]);
    if (!dir)
        return fail(r.offset, "unknown record type \"" + std::string(f[0]) + "\"");
    if (!time)
        return fail(r.offset, "malformed time \"" + std::string(f[1]) + "\" (SECONDS.MICROSECONDS)");
    if (!length)
        return fail(r.offset, "malformed length \"" + std::string(f[2]) + "\"");
    r.direction = *dir;
    r.time = *time;
    r.length = *length;
    if (r.drop)
        return r;
    if (r.length > capture_max_readable_record)
        return fail(r.offset, "record length " + std::to_string(r.length) + " exceeds the limit of " +
                                  std::to_string(capture_max_readable_record));

    // Read in slices so that a corrupt length costs no more memory than the file holds.
    constexpr std::size_t slice = 1024 * 1024;
    while (r.bytes.size() < r.length) {
        const std::size_t want = std::min<std::uint64_t>(slice, r.length - r.bytes.size());
        const std::size_t have = r.bytes.size();
        r.bytes.resize(have + want);
        in_.read(r.bytes.data() + have, static_cast<std::streamsize>(want));
        const auto got = static_cast<std::size_t>(in_.gcount());
        offset_ += got;
        if (got < want) {
            return fail(r.offset, "truncated record: its header announces " + std::to_string(r.length) +
                                      " bytes, the file ends after " + std::to_string(have + got));
        }
    }
    const int end = in_.get();
    if (end != '\n') {
        return fail(offset_, end == std::char_traits<char>::eof()
                                 ? std::string("truncated record: the file ends before the newline after its bytes")
                                 : std::string("expected a newline after the record's bytes"));
    }
    ++offset_;
    return r;
}

} // namespace tcpproxy
