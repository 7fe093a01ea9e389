// `tcpproxy --decode FILE`: a capture shown readably, and each direction's bytes restored.
#include "tcpproxy/report/capture.hpp"
#include "tcpproxy/report/tools.hpp"
#include "tcpproxy/core/error.hpp"

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace tcpproxy {
namespace {

std::string local_time(CaptureTime t)
{
    const std::time_t tt = static_cast<std::time_t>(t.seconds);
    std::tm tm{};
    char buf[64];
    char micros[8];
    std::snprintf(micros, sizeof micros, ".%06u", static_cast<unsigned>(t.micros % 1000000));
    if (!::localtime_r(&tt, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        return std::to_string(t.seconds) + micros;
    return buf + std::string(micros);
}

std::string_view arrow(Direction d) { return d == Direction::client_to_server ? "client->server" : "server->client"; }

// One direction's totals and, when asked, the file its bytes go to.
struct Stream {
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
    std::uint64_t dropped = 0;
    std::optional<std::string> path;
    std::ofstream file;
};

bool open_output(Stream& s, std::ostream& err)
{
    if (!s.path)
        return true;
    s.file.open(*s.path, std::ios::binary | std::ios::trunc);
    if (!s.file) {
        err << "tcpproxy: --decode: " << errno_text("open(" + *s.path + ")") << '\n';
        return false;
    }
    return true;
}

bool close_output(Stream& s, std::ostream& err)
{
    if (!s.path)
        return true;
    s.file.close();
    if (!s.file) {
        err << "tcpproxy: --decode: " << errno_text("write(" + *s.path + ")") << '\n';
        return false;
    }
    return true;
}

} // namespace

std::string hex_dump(std::string_view bytes, std::uint64_t start)
{
    std::string out;
    char buf[16];
    for (std::size_t line = 0; line < bytes.size(); line += 16) {
        const auto chunk = bytes.substr(line, 16);
        std::snprintf(buf, sizeof buf, "%08llx  ", static_cast<unsigned long long>(start + line));
        out += buf;
        for (std::size_t i = 0; i < 16; ++i) {
            if (i < chunk.size()) {
                std::snprintf(buf, sizeof buf, "%02x ", static_cast<unsigned char>(chunk[i]));
                out += buf;
            } else {
                out += "   ";
            }
            if (i == 7)
                out += ' ';
        }
        out += " |";
        for (unsigned char c : chunk)
            out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
        out += "|\n";
    }
    return out;
}

int decode_command(const std::string& file, const std::optional<std::string>& client_out,
                   const std::optional<std::string>& server_out, std::ostream& out, std::ostream& err)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        err << "tcpproxy: --decode: " << errno_text("open(" + file + ")") << '\n';
        return 1;
    }
    Stream streams[2];
    streams[0].path = client_out;
    streams[1].path = server_out;
    if (!open_output(streams[0], err) || !open_output(streams[1], err))
        return 1;

    CaptureReader reader(in);
    while (auto r = reader.next()) {
        Stream& s = streams[r->direction == Direction::client_to_server ? 0 : 1];
        if (r->drop) {
            s.dropped += r->length;
            out << "DROP " << direction_tag(r->direction) << ' ' << local_time(r->time) << ' ' << arrow(r->direction)
                << ' ' << r->length << " bytes not captured (the capture buffer was full)\n\n";
            continue;
        }
        out << direction_tag(r->direction) << ' ' << local_time(r->time) << ' ' << arrow(r->direction) << ' '
            << r->length << " bytes\n"
            << hex_dump(r->bytes, s.bytes) << '\n';
        s.bytes += r->length;
        ++s.records;
        if (s.path)
            s.file.write(r->bytes.data(), static_cast<std::streamsize>(r->bytes.size()));
    }
    int status = 0;
    if (in.bad()) {
        err << "tcpproxy: --decode: " << errno_text("read(" + file + ")") << '\n';
        status = 1;
    } else if (!reader.error().empty()) {
        err << "tcpproxy: --decode: " << file << ": " << reader.error() << '\n';
        status = 1;
    }
    for (int i = 0; i < 2; ++i) {
        const Direction d = i == 0 ? Direction::client_to_server : Direction::server_to_client;
        const Stream& s = streams[i];
        out << "total " << arrow(d) << ": " << s.bytes << " bytes in " << s.records << " records";
        if (s.dropped)
            out << ", " << s.dropped << " bytes not captured";
        out << '\n';
        if (s.dropped)
            err << "tcpproxy: --decode: warning: " << s.dropped << ' ' << arrow(d)
                << " bytes were not captured; the restored stream has gaps where the DROP records are\n";
    }
    const bool client_ok = close_output(streams[0], err);
    const bool server_ok = close_output(streams[1], err);
    if (!client_ok || !server_ok)
        status = 1;
    return status;
}

} // namespace tcpproxy
