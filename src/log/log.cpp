// Boost.Log set-up: a syslog sink (facility daemon) and, with -d, a stderr
// sink, or the journal's native sink when stderr is the journal; what stderr
// is (guard_stderr); and the lines kept for session logfiles until the reaper
// takes them.
#include "tcpproxy/log/log.hpp"

#include "path_probe.hpp"

// Debian builds Boost.Log with the native syslog API; the headers need telling.
#ifndef BOOST_LOG_USE_NATIVE_SYSLOG
#define BOOST_LOG_USE_NATIVE_SYSLOG
#endif
#include <boost/log/attributes/attribute_value_impl.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/syslog_backend.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <unordered_map>

namespace tcpproxy::log {

namespace bl = boost::log;
namespace sinks = boost::log::sinks;

BOOST_LOG_ATTRIBUTE_KEYWORD(severity_kw, "Severity", Severity)

namespace {

// A record's structured values, for the journal sink: the caller's, valid
// while it pushes the record (every sink is synchronous).
struct RecordFields {
    std::uint64_t session = 0;
    const Fields* fields = nullptr;
};
BOOST_LOG_ATTRIBUTE_KEYWORD(fields_kw, "TcpproxyFields", RecordFields)

sinks::syslog::level syslog_level(Severity s)
{
    switch (s) {
    case Severity::debug:
        return sinks::syslog::debug;
    case Severity::info:
        return sinks::syslog::info;
    case Severity::notice:
        return sinks::syslog::notice;
    case Severity::warning:
        return sinks::syslog::warning;
    case Severity::error:
        return sinks::syslog::error;
    }
    return sinks::syslog::info;
}

// Each line reaches stderr in one write(2): whole lines even when other
// processes share the descriptor, and one system call instead of two.
class StderrBackend : public sinks::basic_formatted_sink_backend<char, sinks::synchronized_feeding> {
public:
    void consume(const bl::record_view&, const string_type& text)
    {
        line_.assign(text);
        line_.push_back('\n');
        const char* p = line_.data();
        std::size_t left = line_.size();
        while (left > 0) {
            const ssize_t n = ::write(STDERR_FILENO, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; // nowhere to report a failing stderr
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }

private:
    std::string line_; // reused: the frontend serialises calls
};

// The journal's native protocol through libsystemd: one datagram per line
// with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the TCPPROXY_* fields.
class JournalBackend : public sinks::basic_formatted_sink_backend<char, sinks::concurrent_feeding> {
public:
    explicit JournalBackend(std::string ident) : identifier_("SYSLOG_IDENTIFIER=" + std::move(ident)) {}

    void consume(const bl::record_view& rec, const string_type& text)
    {
        auto s = rec[severity_kw];
        const std::string message = "MESSAGE=" + text;
        const std::string priority =
            "PRIORITY=" + std::to_string(static_cast<int>(syslog_level(s ? *s : Severity::info)));
        std::string extra[5];
        std::size_t n_extra = 0;
        if (auto f = rec[fields_kw]) {
            const auto session = f->session ? f->session : (f->fields ? f->fields->session : 0);
            if (session)
                extra[n_extra++] = "TCPPROXY_SESSION=" + std::to_string(session);
            if (const Fields* x = f->fields) {
                if (x->port)
                    extra[n_extra++] = "TCPPROXY_PORT=" + std::to_string(x->port);
                if (!x->client.empty())
                    extra[n_extra++] = "TCPPROXY_CLIENT=" + x->client;
                if (!x->server.empty())
                    extra[n_extra++] = "TCPPROXY_SERVER=" + x->server;
                if (!x->status.empty())
                    extra[n_extra++] = "TCPPROXY_STATUS=" + x->status;
            }
        }
        iovec iov[9];
        std::size_t n = 0;
        auto add = [&](const std::string& field) { iov[n++] = iovec{const_cast<char*>(field.data()), field.size()}; };
        add(message);
        add(priority);
        add(identifier_);
        add(facility_);
        for (std::size_t i = 0; i < n_extra; ++i)
            add(extra[i]);
        ::sd_journal_sendv(iov, static_cast<int>(n)); // nowhere to report a failing journal
    }

private:
    std::string identifier_;
    const std::string facility_ = "SYSLOG_FACILITY=" + std::to_string(LOG_DAEMON >> 3);
};

// std::cerr when stderr is a socket that is not the journal: each line to
// syslog (error severity), never to the descriptor.
class SyslogStreambuf : public std::streambuf {
protected:
    int_type overflow(int_type c) override
    {
        if (traits_type::eq_int_type(c, traits_type::eof()))
            return traits_type::not_eof(c);
        if (c == '\n')
            flush_line();
        else
            line_.push_back(traits_type::to_char_type(c));
        return c;
    }
    int sync() override
    {
        flush_line();
        return 0;
    }

private:
    void flush_line()
    {
        if (!line_.empty())
            write(Severity::error, line_);
        line_.clear();
    }
    std::string line_;
};

// glibc's syslog() socket path.
constexpr const char* syslog_socket = "/dev/log";
constexpr std::int64_t syslog_recheck_ms = 1000;

std::mutex init_mutex;
std::string ident_storage; // openlog() keeps the pointer: it must outlive the sink
std::atomic<bool> debug_on{false};
std::optional<StderrKind> stderr_kind; // guard_stderr()'s answer, under init_mutex

// The lines kept for session logfiles, by session id.
struct Kept {
    Gate* wake = nullptr;
    std::vector<SessionLine> lines;
    std::size_t bytes = 0;
    std::size_t missing = 0; // lines beyond max_kept_bytes since the last take
};
std::mutex kept_mutex;
std::unordered_map<std::uint64_t, Kept> kept;
std::vector<std::uint64_t> fresh;          // sessions whose lines were empty before their latest one
std::atomic<std::size_t> kept_sessions{0}; // a look without the lock when no session keeps lines

void keep_line(Severity severity, std::string_view message, std::uint64_t session)
{
    if (kept_sessions.load(std::memory_order_acquire) == 0 || (severity == Severity::debug && !debug_on.load()))
        return;
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(kept_mutex);
    const auto it = kept.find(session);
    if (it == kept.end())
        return;
    auto& k = it->second;
    if (k.bytes + message.size() > max_kept_bytes) {
        ++k.missing;
        return;
    }
    if (k.lines.empty())
        fresh.push_back(session);
    k.lines.push_back(SessionLine{severity, now, std::string(message)});
    k.bytes += message.size();
    // Under the lock: the gate's owner stops keeping (and may go away) only under it too.
    k.wake->open();
}

} // namespace

const char* severity_name(Severity s)
{
    switch (s) {
    case Severity::debug:
        return "debug";
    case Severity::info:
        return "info";
    case Severity::notice:
        return "notice";
    case Severity::warning:
        return "warning";
    case Severity::error:
        return "error";
    }
    return "info";
}

void init(const Options& options)
{
    std::lock_guard lock(init_mutex);
    auto core = bl::core::get();
    core->remove_all_sinks();
    const bool debug = options.debug;
    auto filter = [debug](const bl::attribute_value_set& attrs) {
        auto s = attrs[severity_kw];
        return debug || !s || *s != Severity::debug;
    };

    debug_on.store(debug, std::memory_order_relaxed);

    const auto kind = stderr_kind.value_or(StderrKind::plain);
    if (kind == StderrKind::journal) {
        auto sink = boost::make_shared<sinks::synchronous_sink<JournalBackend>>(
            boost::make_shared<JournalBackend>(options.ident));
        sink->set_formatter(bl::expressions::stream << bl::expressions::smessage);
        sink->set_filter(filter);
        core->add_sink(sink);
        return; // once, in the journal: no syslog or stderr copy
    }
    if (options.to_syslog) {
        ident_storage = options.ident;
        auto backend = boost::make_shared<sinks::syslog_backend>(bl::keywords::facility = sinks::syslog::daemon,
                                                                 bl::keywords::use_impl = sinks::syslog::native,
                                                                 bl::keywords::ident = ident_storage);
        backend->set_severity_mapper([](const bl::record_view& rec) {
            auto s = rec[severity_kw];
            return syslog_level(s ? *s : Severity::info);
        });
        auto sink = boost::make_shared<sinks::synchronous_sink<sinks::syslog_backend>>(backend);
        sink->set_formatter(bl::expressions::stream << bl::expressions::smessage);
        // Looked at now (so init() after a reload sees a new syslog daemon at
        // once) and then at most once per second.
        auto probe = std::make_shared<PathProbe>(syslog_socket, syslog_recheck_ms);
        probe->present();
        sink->set_filter(
            [filter, probe](const bl::attribute_value_set& attrs) { return filter(attrs) && probe->present(); });
        core->add_sink(sink);
    }
    if (options.to_stderr && kind == StderrKind::plain) {
        auto sink = boost::make_shared<sinks::synchronous_sink<StderrBackend>>();
        const std::string prefix = options.ident + "[" + std::to_string(::getpid()) + "]: ";
        sink->set_formatter([prefix](const bl::record_view& rec, bl::formatting_ostream& out) {
            auto s = rec[severity_kw];
            out << prefix << severity_name(s ? *s : Severity::info) << ": " << rec[bl::expressions::smessage];
        });
        sink->set_filter(filter);
        core->add_sink(sink);
    }
}

namespace {

// JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected to stdout
// and stderr; it names the journal only while stderr is still that stream.
bool is_journal_stream(const struct stat& st)
{
    const char* env = ::getenv("JOURNAL_STREAM");
    if (!env)
        return false;
    unsigned long long dev = 0, ino = 0;
    char tail = 0;
    return std::sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) == 2 && dev == st.st_dev && ino == st.st_ino;
}

} // namespace

StderrKind guard_stderr()
{
    {
        std::lock_guard lock(init_mutex);
        if (stderr_kind)
            return *stderr_kind;
        struct stat st {};
        if (::fstat(STDERR_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode))
            stderr_kind = StderrKind::plain;
        else if (is_journal_stream(st))
            stderr_kind = StderrKind::journal;
        else
            stderr_kind = StderrKind::socket;
        if (*stderr_kind != StderrKind::socket)
            return *stderr_kind;
        // Whatever else writes to descriptor 2 (a library, a child) reaches /dev/null.
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, STDERR_FILENO); // dup2 clears close-on-exec on 2
            ::close(null);
        }
    }
    static SyslogStreambuf to_syslog;
    std::cerr.rdbuf(&to_syslog);
    std::clog.rdbuf(&to_syslog);
    init(Options{}); // syslog until the configuration names the ident
    return StderrKind::socket;
}

void write(Severity severity, std::string_view message, std::uint64_t session, const Fields* fields)
{
    if (session) {
        try {
            keep_line(severity, message, session);
        } catch (const std::bad_alloc&) {
            // No memory for the copy: the line still reaches syslog and stderr.
        }
    }
    bl::sources::severity_logger<Severity> lg;
    auto rec = lg.open_record(bl::keywords::severity = severity);
    if (!rec)
        return;
    if (session || fields)
        rec.attribute_values().insert("TcpproxyFields",
                                      bl::attributes::make_attribute_value(RecordFields{session, fields}));
    bl::record_ostream stream(rec);
    stream << message;
    stream.flush();
    lg.push_record(std::move(rec));
}

void keep_session_lines(std::uint64_t session, Gate& wake)
{
    std::lock_guard lock(kept_mutex);
    if (kept.try_emplace(session, Kept{&wake, {}, 0, 0}).second)
        kept_sessions.fetch_add(1, std::memory_order_release);
}

namespace {

std::vector<SessionLine> take_locked(Kept& k)
{
    std::vector<SessionLine> out;
    out.swap(k.lines);
    if (k.missing)
        out.push_back(SessionLine{Severity::warning, std::chrono::system_clock::now(),
                                  std::to_string(k.missing) + " lines not kept for the session logfile (more than " +
                                      std::to_string(max_kept_bytes >> 20) + " MiB waited)"});
    k.bytes = 0;
    k.missing = 0;
    return out;
}

} // namespace

std::vector<SessionLine> take_session_lines(std::uint64_t session, bool last)
{
    std::lock_guard lock(kept_mutex);
    const auto it = kept.find(session);
    if (it == kept.end())
        return {};
    auto out = take_locked(it->second);
    if (last) {
        kept.erase(it);
        kept_sessions.fetch_sub(1, std::memory_order_release);
    }
    return out;
}

std::vector<KeptLines> take_kept_lines()
{
    std::vector<KeptLines> out;
    std::lock_guard lock(kept_mutex);
    for (const auto id : fresh) {
        const auto it = kept.find(id);
        if (it != kept.end() && (!it->second.lines.empty() || it->second.missing))
            out.push_back(KeptLines{id, take_locked(it->second)});
    }
    fresh.clear();
    return out;
}

// PathProbe (path_probe.hpp): the syslog sink's cached look for /dev/log.

namespace {

std::int64_t coarse_now_ms()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); // vDSO: no system call
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace

bool PathProbe::present()
{
    const auto now = coarse_now_ms();
    auto next = next_check_ms_.load(std::memory_order_acquire);
    // One caller refreshes; the others use the value it had (a stale answer
    // for a moment is harmless: a message to a missing syslog is lost anyway).
    if ((next == 0 || now >= next) && next_check_ms_.compare_exchange_strong(next, now + interval_ms_)) {
        struct stat st {};
        present_.store(::stat(path_.c_str(), &st) == 0, std::memory_order_release);
    }
    return present_.load(std::memory_order_acquire);
}

} // namespace tcpproxy::log
