// The end-of-session pipeline: a session's start, connection and end handled
// in order on the reaper's thread, and the lines it writes (reference §7).
#include "tcpproxy/report/reaper.hpp"

#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/process/environment.hpp"
#include "tcpproxy/process/launch.hpp"
#include "tcpproxy/core/text.hpp"

#include <cstdio>
#include <ctime>
#include <exception>
#include <thread>

extern char** environ;

namespace tcpproxy {

namespace {

constexpr std::chrono::milliseconds batch_nap{2};

std::int64_t steady_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A value as one token of a log line: names from DNS or configs could hold anything.
std::string token(std::string_view v) { return text::token(v, "\""); }

std::string common(const SessionRecord& r, std::string_view event)
{
    std::string s = "session=" + std::to_string(r.id) + " event=" + std::string(event);
    s += " client=" + r.client.ip.unmapped().str();
    s += " clientname=" + token(r.client_name.empty() ? r.client.ip.unmapped().str() : r.client_name);
    if (r.service && r.service->extended_info)
        s += " clientport=" + std::to_string(r.client.port);
    s += " interface=" + Endpoint{r.local.ip.unmapped(), r.local.port}.str();
    if (r.service && !r.service->name.empty())
        s += " name=" + token(r.service->name);
    if (r.origdst)
        s += " origdst=" + Endpoint{r.origdst->ip.unmapped(), r.origdst->port}.str();
    return s;
}

std::string logname_of(const SessionRecord& r) { return r.service ? r.service->logname : std::string("tcpproxy"); }

// The journal's structured values of a start or end line.
log::Fields fields_of(const SessionRecord& r, bool end)
{
    log::Fields f;
    f.session = r.id;
    f.port = r.local.port;
    f.client = r.client.ip.unmapped().str();
    if (end) {
        if (!r.program.empty())
            f.server = text::clean(r.program);
        else if (r.server)
            f.server = Endpoint{r.server->ip.unmapped(), r.server->port}.str();
        f.status = status_name(r.status);
    }
    return f;
}

log::Severity end_severity(Status s)
{
    if (s == Status::ok)
        return log::Severity::info;
    return s == Status::proxy ? log::Severity::error : log::Severity::notice;
}

} // namespace

std::string session_start_line(const SessionRecord& r)
{
    std::string s = common(r, "start");
    if (r.service)
        s += " binding=" + token(r.service->interface.text) + ":" + std::to_string(r.local.port);
    if (r.via)
        s += " via=" + Endpoint{r.via->ip.unmapped(), r.via->port}.str();
    return s;
}

std::string session_end_line(const SessionRecord& r)
{
    std::string s = common(r, "end");
    if (!r.program.empty())
        s += " program=" + token(r.program);
    else
        s += " server=" + (r.server ? Endpoint{r.server->ip.unmapped(), r.server->port}.str() : std::string("-"));
    if (r.service && r.service->extended_info && r.outgoing)
        s += " outgoing=" + Endpoint{r.outgoing->ip.unmapped(), r.outgoing->port}.str();
    s += " status=" + std::string(status_name(r.status));
    s += " code=" + std::to_string(status_code(r.status));
    s += " bytes_client=" + std::to_string(r.bytes_client);
    s += " bytes_server=" + std::to_string(r.bytes_server);
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f", r.duration_seconds());
    s += " duration=";
    s += dur;
    if (!r.reason.empty())
        s += " reason=" + text::quoted(r.reason);
    return s;
}

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
    line += log::severity_name(severity);
    line += ": ";
    line += message;
    return line;
}

StatusLine status_line_of(const SessionRecord& r, long pid)
{
    StatusLine l;
    l.logname = logname_of(r);
    l.pid = static_cast<pid_t>(pid);
    l.started = r.started_epoch();
    l.interface = Endpoint{r.local.ip.unmapped(), r.local.port};
    l.client = r.client.ip.unmapped();
    l.client_name = r.client_name;
    if (r.server)
        l.server = Endpoint{r.server->ip.unmapped(), r.server->port};
    if (r.origdst)
        l.origdst = Endpoint{r.origdst->ip.unmapped(), r.origdst->port};
    return l;
}

void clean_stale_status_files(const std::string& statdir)
{
    if (statdir.empty())
        return;
    const auto result = remove_stale_status_files(statdir);
    for (const auto& name : result.removed)
        log::notice("status directory " + statdir + ": removed " + name + " (its process is gone)");
    for (const auto& error : result.errors)
        log::warning("status directory: " + error);
}

Reaper::Reaper(Mode mode, long main_pid, HandlerLimits limits)
    : mode_(mode), main_pid_(main_pid),
      exits_(mode == Mode::threaded ? ExitHandlerPool::default_threads : 0, ExitHandlerPool::default_max_queued, limits)
{
    if (mode_ == Mode::threaded) {
        boost::thread::attributes attrs;
        attrs.set_stack_size(256 * 1024); // files and formatting, not per session: a little room
        thread_ = boost::thread(attrs, [this] { run(); });
    }
}

Reaper::~Reaper() { stop(); }

std::uint64_t Reaper::next_session_id() { return ids_.fetch_add(1, std::memory_order_relaxed) + 1; }

bool Reaper::healthy(std::chrono::milliseconds limit) const
{
    const auto since = busy_since_ms_.load(std::memory_order_relaxed);
    return since == 0 || steady_ms() - since <= limit.count();
}

void Reaper::started(const SessionRecord& r)
{
    // Before the session can log anything more: from here on its lines are
    // kept for the logfile the reaper is about to open.
    if (r.config && r.config->session.active())
        log::keep_session_lines(r.id, wake_);
    // Logged here, on the session's thread, so that it comes before every
    // other line of the session (kept for its logfile like those).
    const auto fields = fields_of(r, false);
    log::write(log::Severity::info, session_start_line(r), r.id, &fields);
    post(Event::started, r);
}

void Reaper::connected(const SessionRecord& r) { post(Event::connected, r); }

void Reaper::submit(SessionRecord r) { post(Event::ended, std::move(r)); }

void Reaper::post(Event e, SessionRecord r)
{
    if (mode_ == Mode::inline_) {
        handle(e, r);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        queue_.emplace_back(e, std::move(r));
    }
    wake_.open();
}

void Reaper::handle(Event e, const SessionRecord& r)
{
    switch (e) {
    case Event::started:
        begin(r);
        break;
    case Event::connected:
        connect(r);
        break;
    case Event::ended:
        end(r);
        break;
    }
}

void Reaper::note(log::Severity severity, const std::string& text, const Running* running, const log::Fields* fields)
{
    // No session id to keep: it goes to the logfile here, in its place.
    log::write(severity, text, 0, fields);
    if (running && running->log)
        running->log->append(session_log_line(std::chrono::system_clock::now(), severity, text));
}

void Reaper::copy_session_lines(std::uint64_t id, const Running& running, bool last)
{
    write_lines(running, log::take_session_lines(id, last));
}

void Reaper::write_lines(const Running& running, const std::vector<log::SessionLine>& lines)
{
    if (running.log)
        for (const auto& l : lines)
            running.log->append(session_log_line(l.when, l.severity, l.text));
}

// Start: logfile, status file, then what the session has logged so far (its start line first).
void Reaper::begin(const SessionRecord& r)
{
    Running& running = running_[r.id];
    active_.fetch_add(1, std::memory_order_relaxed);
    metrics::counters().session_started(r.local.port, r.service ? r.service->name : std::string());
    if (r.config && r.config->session.active()) {
        try {
            running.log =
                std::make_shared<SessionLog>(r.config->session.dir, logname_of(r), static_cast<pid_t>(main_pid_), r.id);
        } catch (const std::exception& e) {
            // The session goes on without a logfile; its kept lines go nowhere.
            note(log::Severity::error, std::string("session bookkeeping: ") + e.what(), nullptr);
            log::take_session_lines(r.id, true);
        }
    }
    if (r.config && !r.config->statdir.empty()) {
        try {
            running.status = std::make_unique<StatusFile>(r.config->statdir, r.id, status_line_of(r, main_pid_));
        } catch (const std::exception& e) {
            note(log::Severity::error, std::string("session bookkeeping: ") + e.what(), &running);
        }
    }
    if (const auto it = early_.find(r.id); it != early_.end()) {
        write_lines(running, it->second);
        early_.erase(it);
    }
    copy_session_lines(r.id, running, false);
}

void Reaper::connect(const SessionRecord& r)
{
    const auto it = running_.find(r.id);
    if (it == running_.end())
        return;
    if (it->second.status && r.server) {
        try {
            it->second.status->update_server(Endpoint{r.server->ip.unmapped(), r.server->port});
        } catch (const std::exception& e) {
            note(log::Severity::error, std::string("session bookkeeping: ") + e.what(), &it->second);
        }
    }
}

// End: the session's last lines, status file removed, end line, logfile
// finished (kept, removed, or queued for the exit handler).
void Reaper::end(const SessionRecord& r)
{
    Running running;
    const auto it = running_.find(r.id);
    const bool was_started = it != running_.end();
    if (was_started) {
        running = std::move(it->second);
        running_.erase(it);
        active_.fetch_sub(1, std::memory_order_relaxed);
    }
    // Before the session's end is counted: a scrape that sees the end sees its connects.
    for (const auto& a : r.upstream_attempts)
        metrics::counters().upstream_connect(a.server.str(), a.failed);
    metrics::counters().session_ended(metrics::SessionEnd{r.local.port, r.service ? r.service->name : std::string(),
                                                          r.status, r.bytes_client, r.bytes_server, !r.program.empty(),
                                                          was_started});
    copy_session_lines(r.id, running, true);
    if (running.status) {
        if (const auto error = running.status->remove(); !error.empty())
            note(log::Severity::error, "status file: " + error, &running);
    }
    const auto fields = fields_of(r, true);
    note(end_severity(r.status), session_end_line(r), &running, &fields);
    if (!running.log)
        return;
    const auto& handling = r.config->session;
    ExitJob job;
    job.log = std::move(running.log);
    job.status = r.status;
    job.handling = handling;
    job.session = r.id;
    const bool run_handler = handling.mode == SessionMode::process && (handling.exit_codes & status_bit(r.status)) != 0;
    if (!run_handler) {
        finish_session_log(job); // keep or remove: nothing to wait for
        return;
    }
    const std::string prefix = r.service ? r.service->var_prefix : std::string("PROXY_");
    job.env =
        build_environment(session_variables(r, VariableStage::end, main_pid_), prefix, r.config->empty_env, environ);
    // As the service's exec handler and acp are; with no service, as the daemon itself.
    if (r.service) {
        job.identity = r.service->user;
        job.handler = launch::handler_ref(*r.config, r.service, HandlerRole::exit_handler,
                                          session_variables(r, VariableStage::end, main_pid_));
    }
    exits_.submit(std::move(job));
}

void Reaper::run()
{
    std::deque<std::pair<Event, SessionRecord>> batch;
    for (;;) {
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            batch.swap(queue_);
            stopping = stopping_;
        }
        for (auto& [e, r] : batch) {
            try {
                handle(e, r);
            } catch (const std::exception& ex) {
                // Out of memory, say: the next session still gets its bookkeeping.
                log::error(std::string("session bookkeeping: ") + ex.what(), r.id);
            }
        }
        // What running sessions logged since (their lines wake us too).
        for (auto& kept : log::take_kept_lines()) {
            const auto it = running_.find(kept.session);
            if (it != running_.end()) {
                write_lines(it->second, kept.lines);
            } else {
                // Its start is still queued: the lines wait for the logfile.
                auto& early = early_[kept.session];
                early.insert(early.end(), std::make_move_iterator(kept.lines.begin()),
                             std::make_move_iterator(kept.lines.end()));
            }
        }
        if (batch.empty()) {
            if (stopping)
                return; // everything handled
            busy_since_ms_.store(0, std::memory_order_relaxed);
            wake_.pass();
            busy_since_ms_.store(steady_ms(), std::memory_order_relaxed);
            continue;
        }
        batch.clear();
        // Gather the next batch before looking again: while we do not sleep
        // in the gate, post() queues without a system call, so under load
        // the thread wakes once per nap instead of three times per session
        // (each wake-up of another thread costs more CPU than the lines).
        // Events are handled at most this much later.
        if (!stopping)
            std::this_thread::sleep_for(batch_nap);
        busy_since_ms_.store(steady_ms(), std::memory_order_relaxed);
    }
}

void Reaper::stop()
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        stopping_ = true;
    }
    wake_.open();
    if (thread_.joinable())
        thread_.join();
    // Sessions that never ended (none, once the pool has drained): their
    // status files go; their logfiles are removed with them.
    for (auto& [id, running] : running_) {
        log::take_session_lines(id, true);
        if (running.status)
            if (const auto error = running.status->remove(); !error.empty())
                log::error("status file: " + error, id);
    }
    running_.clear();
    active_.store(0, std::memory_order_relaxed);
    early_.clear();
    exits_.drain();
}

} // namespace tcpproxy
