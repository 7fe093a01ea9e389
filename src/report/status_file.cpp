// Status files: the line format, its parser, atomic writes, stale cleanup.
#include "tcpproxy/report/status_file.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/core/text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <utility>

namespace tcpproxy {
namespace {

constexpr mode_t status_mode = 0644;

// "CALL(PATH)", as failed calls on files are named.
std::string on(const char* call, const std::string& path) { return std::string(call) + "(" + path + ")"; }

// One field of the line: something, with no blank and no control character.
bool clean_field(std::string_view s)
{
    return !s.empty() && s.find(' ') == std::string_view::npos && text::printable(s);
}

// The logname as it appears in both the line and the file name: one clean
// field that is also one path component.
std::string safe_logname(std::string_view s) { return text::token(s, "/"); }

template <class T>
std::optional<T> parse_number(std::string_view s)
{
    T value{};
    if (s.empty() || s.front() == '-' || s.front() == '+')
        return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return value;
}

// 1.2.3.4:25 or [::1]:25, as Endpoint::str() writes them.
std::optional<Endpoint> parse_endpoint(std::string_view s)
{
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    auto host = s.substr(0, colon);
    const auto port = parse_number<std::uint16_t>(s.substr(colon + 1));
    if (!port || *port == 0)
        return std::nullopt;
    std::optional<IpAddress> ip;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        ip = IpAddress::parse_v6(host.substr(1, host.size() - 2));
    else
        ip = IpAddress::parse_v4(host);
    if (!ip)
        return std::nullopt;
    return Endpoint{*ip, *port};
}

std::optional<Endpoint> parse_optional_endpoint(std::string_view s, bool& ok)
{
    if (s == "-")
        return std::nullopt;
    auto e = parse_endpoint(s);
    ok = ok && e.has_value();
    return e;
}

bool process_gone(pid_t pid) { return pid > 0 && ::kill(pid, 0) == -1 && errno == ESRCH; }

} // namespace

std::string format_status_line(const StatusLine& l)
{
    const std::string client_ip = l.client.str();
    std::string out = "tcpproxy ";
    out += safe_logname(l.logname);
    out += ' ' + std::to_string(l.pid);
    out += ' ' + std::to_string(l.started);
    out += ' ' + l.interface.str();
    out += ' ' + client_ip;
    out += ' ' + (clean_field(l.client_name) ? l.client_name : client_ip);
    out += ' ' + (l.server ? l.server->str() : std::string("-"));
    out += ' ' + (l.origdst ? l.origdst->str() : std::string("-"));
    out += '\n';
    return out;
}

Result<StatusLine> parse_status_line(std::string_view text)
{
    if (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    std::vector<std::string_view> f;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto sp = text.find(' ', pos);
        const auto end = sp == std::string_view::npos ? text.size() : sp;
        f.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    if (f.size() != 9)
        return fail("expected 9 space-separated fields, found " + std::to_string(f.size()));
    for (std::size_t i = 0; i < f.size(); ++i)
        if (!clean_field(f[i]))
            return fail("field " + std::to_string(i + 1) + " is empty or holds a control character");
    if (f[0] != "tcpproxy")
        return fail("field 1 is not 'tcpproxy'");

    StatusLine l;
    l.logname = std::string(f[1]);
    const auto pid = parse_number<pid_t>(f[2]);
    if (!pid || *pid <= 0)
        return fail("field 3 (pid) is not a process id");
    l.pid = *pid;
    const auto started = parse_number<std::int64_t>(f[3]);
    if (!started)
        return fail("field 4 (started) is not a number of seconds");
    l.started = *started;
    const auto iface = parse_endpoint(f[4]);
    if (!iface)
        return fail("field 5 (interface) is not IP:PORT");
    l.interface = *iface;
    const auto client = IpAddress::parse(f[5]);
    if (!client)
        return fail("field 6 (client) is not an IP address");
    l.client = *client;
    l.client_name = std::string(f[6]);
    bool ok = true;
    l.server = parse_optional_endpoint(f[7], ok);
    if (!ok)
        return fail("field 8 (server) is neither IP:PORT nor '-'");
    l.origdst = parse_optional_endpoint(f[8], ok);
    if (!ok)
        return fail("field 9 (original destination) is neither IP:PORT nor '-'");
    return l;
}

std::optional<StatusFileName> parse_status_file_name(std::string_view name)
{
    if (name.empty() || name.front() == '.')
        return std::nullopt;
    const auto last = name.rfind('.');
    if (last == std::string_view::npos || last == 0)
        return std::nullopt;
    const auto middle = name.rfind('.', last - 1);
    if (middle == std::string_view::npos || middle == 0)
        return std::nullopt;
    const auto pid = parse_number<pid_t>(name.substr(middle + 1, last - middle - 1));
    const auto session = name.substr(last + 1);
    if (!pid || *pid <= 0 || session.empty())
        return std::nullopt;
    return StatusFileName{std::string(name.substr(0, middle)), *pid, std::string(session)};
}

std::string status_file_name(const std::string& logname, pid_t pid, std::uint64_t session_id)
{
    return safe_logname(logname) + '.' + std::to_string(pid) + '.' + std::to_string(session_id);
}

StatusFile::StatusFile(std::string dir, std::uint64_t session_id, StatusLine line)
    : dir_(std::move(dir)), line_(std::move(line))
{
    const std::string name = status_file_name(line_.logname, line_.pid, session_id);
    path_ = dir_ + '/' + name;
    temp_path_ = dir_ + "/." + name + ".tmp";
    std::lock_guard lock(mutex_);
    write_locked();
}

StatusFile::~StatusFile() { remove(); }

void StatusFile::update_server(const Endpoint& server)
{
    std::lock_guard lock(mutex_);
    line_.server = server;
    if (present_)
        write_locked();
}

void StatusFile::write_locked()
{
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int raw = ::open(temp_path_.c_str(), flags, status_mode);
    if (raw < 0 && errno == EEXIST) {
        // A temporary file left by a crash, or something planted there:
        // unlink removes the entry itself (never a symlink's target); retry once.
        if (::unlink(temp_path_.c_str()) != 0 && errno != ENOENT)
            throw sys_error(on("unlink", temp_path_));
        raw = ::open(temp_path_.c_str(), flags, status_mode);
    }
    if (raw < 0)
        throw sys_error(on("open", temp_path_));
    Fd fd(raw);
    try {
        if (::fchmod(fd.get(), status_mode) != 0)
            throw sys_error(on("fchmod", temp_path_));
        const std::string text = format_status_line(line_);
        // One short write: the line is far below PIPE_BUF-like limits for files.
        const ssize_t n = ::write(fd.get(), text.data(), text.size());
        if (n < 0)
            throw sys_error(on("write", temp_path_));
        if (static_cast<std::size_t>(n) != text.size()) {
            throw sys_error(on("write", temp_path_), ENOSPC);
        }
        if (::close(fd.release()) != 0)
            throw sys_error(on("close", temp_path_));
        if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
            throw sys_error(on("rename", path_));
    } catch (...) {
        ::unlink(temp_path_.c_str());
        throw;
    }
    present_ = true;
}

std::string StatusFile::remove() noexcept
{
    std::lock_guard lock(mutex_);
    if (!present_)
        return {};
    present_ = false;
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
        return errno_text(on("unlink", path_));
    return {};
}

Result<Fd> open_status_directory(const std::string& dir)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return fail(errno == ELOOP || errno == ENOTDIR ? on("open", dir) + ": not a directory (a symbolic link?)"
                                                       : errno_text(on("open", dir)));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail(errno_text(on("fstat", dir)));
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
        return fail(dir + ": owned by uid " + std::to_string(st.st_uid) + ", neither us nor root");
    if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0)
        return fail(dir + ": writable by everyone (and not sticky)");
    return fd;
}

StaleCleanup remove_stale_status_files(const std::string& dir, const std::optional<std::string>& logname)
{
    StaleCleanup result;
    auto dir_fd = open_status_directory(dir);
    if (!dir_fd) {
        result.errors.push_back(dir_fd.error().message);
        return result;
    }
    // readdir needs a DIR of its own; the descriptor stays for the *at() calls.
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(::dup(dir_fd->get())), ::closedir);
    if (!d) {
        result.errors.push_back(errno_text(on("fdopendir", dir)));
        return result;
    }
    const uid_t me = ::geteuid();
    while (const dirent* e = ::readdir(d.get())) {
        std::string_view name = e->d_name;
        std::string_view candidate = name;
        // Temporary files are ".NAME.tmp"; they go with their status file's PID.
        if (name.size() > 5 && name.front() == '.' && name.ends_with(".tmp"))
            candidate = name.substr(1, name.size() - 5);
        const auto parsed = parse_status_file_name(candidate);
        if (!parsed || (logname && parsed->logname != safe_logname(*logname)))
            continue;
        if (!process_gone(parsed->pid))
            continue;
        // Only what we could have written: a regular file of ours, not a link, not someone else's.
        struct stat st {};
        const std::string entry(name);
        if (::fstatat(dir_fd->get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != me)
            continue;
        if (::unlinkat(dir_fd->get(), entry.c_str(), 0) == 0)
            result.removed.emplace_back(text::clean(name));
        else if (errno != ENOENT)
            result.errors.push_back(errno_text(on("unlink", dir + '/' + text::clean(name))));
    }
    return result;
}

} // namespace tcpproxy
