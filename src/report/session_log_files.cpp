#include "session_log_files.hpp"

#include "tcpproxy/process/environment.hpp"

#include <cstdio>
#include <ctime>

extern char** environ;

namespace tcpproxy {

namespace {

const char* severity_word(log::Severity s)
{
    switch (s) {
    case log::Severity::debug: return "debug";
    case log::Severity::info: return "info";
    case log::Severity::notice: return "notice";
    case log::Severity::warning: return "warning";
    case log::Severity::error: return "error";
    }
    return "info";
}

} // namespace

std::string session_log_line(std::chrono::system_clock::time_point when, log::Severity severity,
                             std::string_view message)
{
    const auto since = when.time_since_epoch();
    const std::time_t secs = static_cast<std::time_t>(std::chrono::duration_cast<std::chrono::seconds>(since).count());
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since).count() % 1000000;
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char stamp[64];
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%06ld ", static_cast<long>(micros));
    std::string line = stamp;
    line += severity_word(severity);
    line += ": ";
    line += message;
    return line;
}

void SessionLogs::open(const SessionRecord& r, long pid)
{
    const std::string logname = r.service ? r.service->logname : std::string("tcpproxy");
    auto log = std::make_shared<SessionLog>(r.config->session.dir, logname, static_cast<pid_t>(pid), r.id);
    std::lock_guard lock(mutex_);
    logs_[r.id] = std::move(log);
}

void SessionLogs::append(std::uint64_t session, log::Severity severity, std::string_view message)
{
    std::shared_ptr<SessionLog> log;
    {
        std::lock_guard lock(mutex_);
        const auto it = logs_.find(session);
        if (it == logs_.end())
            return;
        log = it->second;
    }
    // Outside the table's lock: sessions write their own files side by side.
    log->append(session_log_line(std::chrono::system_clock::now(), severity, message));
}

std::shared_ptr<SessionLog> SessionLogs::take(std::uint64_t session)
{
    std::lock_guard lock(mutex_);
    const auto it = logs_.find(session);
    if (it == logs_.end())
        return nullptr;
    auto log = std::move(it->second);
    logs_.erase(it);
    return log;
}

void SessionLogOpener::starting(const SessionRecord& r)
{
    if (r.config && r.config->session.active())
        logs_->open(r, pid_); // throws naming the call and path; the reaper logs it
}

SessionLogCloser::SessionLogCloser(std::shared_ptr<SessionLogs> logs, long pid, std::size_t handler_threads)
    : logs_(std::move(logs)), pid_(pid), pool_(handler_threads)
{
}

void SessionLogCloser::ended(const SessionRecord& r)
{
    auto log = logs_->take(r.id);
    if (!log)
        return;
    const auto& handling = r.config->session;
    ExitJob job;
    job.log = std::move(log);
    job.status = r.status;
    job.handling = handling;
    job.session = r.id;
    const bool run_handler =
        handling.mode == SessionMode::process && (handling.exit_codes & status_bit(r.status)) != 0;
    if (!run_handler) {
        finish_session_log(job); // keep or remove: nothing to wait for
        return;
    }
    const std::string prefix = r.service ? r.service->var_prefix : std::string("PROXY_");
    job.env = build_environment(session_variables(r, VariableStage::end, pid_), prefix, r.config->empty_env, environ);
    // As the service's exec handler and acp are; with no service, as the daemon itself.
    if (r.service)
        job.identity = r.service->user;
    pool_.submit(std::move(job));
}

void SessionLogCloser::shutdown() { pool_.drain(); }

} // namespace tcpproxy
