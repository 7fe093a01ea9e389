// `tcpproxy --status`: reads a status directory and prints the sessions as a table.
#include "tcpproxy/report/tools.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/core/text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <utility>

namespace tcpproxy {
namespace {

// A status line is short; anything longer than this is not one.
constexpr std::size_t max_status_file_size = 4096;

struct FileRead {
    std::string content;
    std::string error; // empty: content is valid
    bool vanished = false;
    uid_t owner = 0;
};

// Never blocks (a FIFO planted in the directory), never follows a symlink,
// never reads more than one status line's worth.
FileRead read_small_file(const std::string& path)
{
    FileRead r;
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        r.vanished = errno == ENOENT;
        r.error = errno_text("open");
        return r;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        r.error = errno_text("fstat");
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        r.error = "not a regular file";
        return r;
    }
    r.owner = st.st_uid;
    char buf[max_status_file_size + 1];
    std::size_t have = 0;
    while (have < sizeof buf) {
        const ssize_t n = ::read(fd.get(), buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r.error = errno_text("read");
            return r;
        }
        if (n == 0)
            break;
        have += static_cast<std::size_t>(n);
    }
    if (have > max_status_file_size) {
        r.error = "longer than a status line";
        return r;
    }
    r.content.assign(buf, have);
    return r;
}

// Checks one file and turns it into a row, or says why it is not one.
std::optional<StatusRow> row_from_file(const std::string& name, const std::string& content, std::string& why)
{
    const auto parsed_name = parse_status_file_name(name);
    if (!parsed_name) {
        why = "name is not LOGNAME.PID.SESSIONID";
        return std::nullopt;
    }
    if (content.empty() || content.back() != '\n' || content.find('\n') != content.size() - 1) {
        why = "content is not exactly one line";
        return std::nullopt;
    }
    auto parsed = parse_status_line(content);
    if (!parsed) {
        why = parsed.error().message;
        return std::nullopt;
    }
    if (parsed->logname != parsed_name->logname || parsed->pid != parsed_name->pid) {
        why = "logname or pid in the line does not match the file name";
        return std::nullopt;
    }
    return StatusRow{std::move(*parsed), parsed_name->session};
}

// The effective uid of a running process (/proc/PID/status "Uid:" line);
// none when it is gone. /proc/PID itself is root's for a non-dumpable daemon.
std::optional<uid_t> process_uid(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("Uid:"))
            continue;
        unsigned long real = 0, effective = 0;
        if (std::sscanf(line.c_str(), "Uid: %lu %lu", &real, &effective) == 2)
            return static_cast<uid_t>(effective);
    }
    return std::nullopt;
}

// A row only for a file its process's user wrote (another user could forge
// one naming any pid); a file whose process is gone is kept, marked.
bool owned_by_its_process(StatusRow& row, uid_t owner, std::string& why)
{
    const auto uid = process_uid(row.line.pid);
    if (!uid) {
        row.gone = ::kill(row.line.pid, 0) != 0 && errno == ESRCH;
        return true;
    }
    if (*uid == owner)
        return true;
    why = "owned by uid " + std::to_string(owner) + ", not by the user of process " + std::to_string(row.line.pid) +
          " (uid " + std::to_string(*uid) + ")";
    return false;
}

std::string local_time(std::int64_t t)
{
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (!::localtime_r(&tt, &tm))
        return std::to_string(t);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return n ? std::string(buf, n) : std::to_string(t);
}

std::string two_digits(std::int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// Session ids compare as numbers when they are (shorter first), else as text.
bool session_less(const std::string& a, const std::string& b)
{
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

} // namespace

std::string format_age(std::int64_t s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        return std::to_string(s) + "s";
    if (s < 3600)
        return std::to_string(s / 60) + "m" + two_digits(s % 60) + "s";
    if (s < 86400)
        return std::to_string(s / 3600) + "h" + two_digits(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + two_digits(s % 86400 / 3600) + "h";
}

std::string render_status_table(std::vector<StatusRow> rows, std::int64_t now)
{
    std::sort(rows.begin(), rows.end(), [](const StatusRow& a, const StatusRow& b) {
        if (a.line.started != b.line.started)
            return a.line.started < b.line.started;
        if (a.line.pid != b.line.pid)
            return a.line.pid < b.line.pid;
        return session_less(a.session, b.session);
    });
    using Cells = std::vector<std::string>;
    std::vector<Cells> table{{"CLIENT", "INTERFACE", "SERVER", "STARTED", "AGE", "ORIGDST", "LOGNAME", "PID/SESSION"}};
    for (const auto& r : rows) {
        const auto& l = r.line;
        std::string client = l.client.str();
        if (l.client_name != client)
            client += " (" + l.client_name + ")";
        table.push_back({client, l.interface.str(), l.server ? l.server->str() : "-", local_time(l.started),
                         format_age(now - l.started), l.origdst ? l.origdst->str() : "-", l.logname,
                         std::to_string(l.pid) + "/" + r.session + (r.gone ? " (gone)" : "")});
        // Names come from files anyone may have planted: nothing reaches the terminal raw.
        for (auto& cell : table.back())
            cell = text::clean(cell);
    }
    std::vector<std::size_t> width(table.front().size(), 0);
    for (const auto& row : table)
        for (std::size_t i = 0; i < row.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    std::string out;
    for (const auto& row : table) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size())
                out.append(width[i] - row[i].size() + 2, ' ');
        }
        out += '\n';
    }
    return out;
}

int status_command(const std::string& dir, std::ostream& out, std::ostream& err)
{
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) {
        err << "tcpproxy: --status: " << errno_text("opendir(" + dir + ")") << '\n';
        return 1;
    }
    std::vector<StatusRow> rows;
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d.get());
        if (!e) {
            if (errno == 0)
                break;
            err << "tcpproxy: --status: " << errno_text("readdir(" + dir + ")") << '\n';
            return 1;
        }
        const std::string name = e->d_name;
        // Dot files are "." and "..", and the writer's temporary files.
        if (name.front() == '.')
            continue;
        const std::string path = dir + '/' + name;
        const auto file = read_small_file(path);
        if (file.vanished)
            continue; // the session ended while we looked
        std::string why = file.error;
        std::optional<StatusRow> row;
        if (why.empty())
            row = row_from_file(name, file.content, why);
        if (row && owned_by_its_process(*row, file.owner, why))
            rows.push_back(std::move(*row));
        else
            err << "tcpproxy: --status: skipping " << text::clean(path) << ": " << why << '\n';
    }
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    out << render_status_table(std::move(rows), now);
    return 0;
}

} // namespace tcpproxy
