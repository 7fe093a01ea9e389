// Boost.Log set-up: a syslog sink (facility daemon) and, with -d, a stderr sink.
#include "tcpproxy/log/log.hpp"

#include "path_probe.hpp"

// Debian builds Boost.Log with the native syslog API; the headers need telling.
#ifndef BOOST_LOG_USE_NATIVE_SYSLOG
#define BOOST_LOG_USE_NATIVE_SYSLOG
#endif
#include <boost/log/attributes/constant.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/syslog_backend.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/unlocked_frontend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace tcpproxy::log {

namespace bl = boost::log;
namespace sinks = boost::log::sinks;

BOOST_LOG_ATTRIBUTE_KEYWORD(severity_kw, "Severity", Severity)
BOOST_LOG_ATTRIBUTE_KEYWORD(session_kw, "Session", std::uint64_t)

namespace {

constexpr const char* severity_text(Severity s)
{
    switch (s) {
    case Severity::debug: return "debug";
    case Severity::info: return "info";
    case Severity::notice: return "notice";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
    }
    return "info";
}

sinks::syslog::level syslog_level(Severity s)
{
    switch (s) {
    case Severity::debug: return sinks::syslog::debug;
    case Severity::info: return sinks::syslog::info;
    case Severity::notice: return sinks::syslog::notice;
    case Severity::warning: return sinks::syslog::warning;
    case Severity::error: return sinks::syslog::error;
    }
    return sinks::syslog::info;
}

// Hands session messages to the session tap. Concurrent feeding: whatever
// the tap writes to locks for itself, sessions do not queue behind each other.
class TapBackend : public sinks::basic_sink_backend<sinks::concurrent_feeding> {
public:
    void set(SessionTap tap)
    {
        std::lock_guard lock(mutex_);
        tap_ = tap ? std::make_shared<const SessionTap>(std::move(tap)) : nullptr;
    }
    void consume(const bl::record_view& rec)
    {
        std::shared_ptr<const SessionTap> tap;
        {
            std::lock_guard lock(mutex_);
            tap = tap_;
        }
        const auto session = rec[session_kw];
        const auto message = rec[bl::expressions::smessage];
        if (!tap || !session || !message)
            return;
        const auto s = rec[severity_kw];
        (*tap)(*session, s ? *s : Severity::info, *message);
    }

private:
    std::mutex mutex_;
    std::shared_ptr<const SessionTap> tap_;
};

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

// glibc's syslog() socket path.
constexpr const char* syslog_socket = "/dev/log";
constexpr std::int64_t syslog_recheck_ms = 1000;

boost::shared_ptr<sinks::unlocked_sink<TapBackend>>& tap_sink()
{
    static auto sink = boost::make_shared<sinks::unlocked_sink<TapBackend>>();
    return sink;
}

std::mutex init_mutex;
std::string ident_storage; // openlog() keeps the pointer: it must outlive the sink

} // namespace

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

    tap_sink()->set_filter([filter](const bl::attribute_value_set& attrs) {
        return attrs.count("Session") != 0 && filter(attrs);
    });
    core->add_sink(tap_sink());

    if (options.to_syslog) {
        ident_storage = options.ident;
        auto backend = boost::make_shared<sinks::syslog_backend>(
            bl::keywords::facility = sinks::syslog::daemon, bl::keywords::use_impl = sinks::syslog::native,
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
        sink->set_filter([filter, probe](const bl::attribute_value_set& attrs) {
            return filter(attrs) && probe->present();
        });
        core->add_sink(sink);
    }
    if (options.to_stderr) {
        auto sink = boost::make_shared<sinks::synchronous_sink<StderrBackend>>();
        const std::string prefix = options.ident + "[" + std::to_string(::getpid()) + "]: ";
        sink->set_formatter([prefix](const bl::record_view& rec, bl::formatting_ostream& out) {
            auto s = rec[severity_kw];
            out << prefix << severity_text(s ? *s : Severity::info) << ": " << rec[bl::expressions::smessage];
        });
        sink->set_filter(filter);
        core->add_sink(sink);
    }
}

void write(Severity severity, std::string_view message, std::uint64_t session)
{
    // The session id is an attribute of the logger (not added to the record
    // later) so that sink filters, e.g. a per-session logfile, can select on it.
    bl::sources::severity_logger<Severity> lg;
    if (session)
        lg.add_attribute("Session", bl::attributes::constant<std::uint64_t>(session));
    auto rec = lg.open_record(bl::keywords::severity = severity);
    if (!rec)
        return;
    bl::record_ostream stream(rec);
    stream << message;
    stream.flush();
    lg.push_record(std::move(rec));
}

void set_session_tap(SessionTap tap) { tap_sink()->locked_backend()->set(std::move(tap)); }

std::string syscall_failed(std::string_view call, int err)
{
    std::string out(call);
    out += ": ";
    out += std::strerror(err);
    return out;
}

} // namespace tcpproxy::log
