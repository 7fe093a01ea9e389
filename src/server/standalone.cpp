// Standalone daemon life (reference §1): bind, go to the background, serve,
// and react to signals: SIGTERM/SIGINT shut down cleanly, SIGHUP reloads.
#include "daemon.hpp"
#include "listener.hpp"
#include "tcpproxy/process/launch.hpp"
#include "process_setup.hpp"
#include "service_notify.hpp"
#include "session_pool.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/metrics/counters.hpp"
#include "tcpproxy/metrics/server.hpp"
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/server/server.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/config/values.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

namespace tcpproxy {

namespace {

// How long running sessions get to end after SIGTERM before we give up waiting.
constexpr std::chrono::seconds shutdown_grace{15};

// The reaper is stuck (for the watchdog) when one batch of its takes longer.
constexpr std::chrono::seconds reaper_stuck{10};

// The next control signal; with `every`, 0 when that much time passed without one.
int next_signal(const sigset_t& wanted, std::optional<std::chrono::milliseconds> every)
{
    for (;;) {
        if (!every) {
            int sig = 0;
            if (::sigwait(&wanted, &sig) == 0)
                return sig;
            continue;
        }
        timespec ts{static_cast<time_t>(every->count() / 1000), static_cast<long>(every->count() % 1000) * 1000000L};
        const int sig = ::sigtimedwait(&wanted, nullptr, &ts);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0;
    }
}

std::string absolute(const std::string& path)
{
    if (path.empty())
        return path;
    std::error_code ec;
    auto p = std::filesystem::absolute(path, ec);
    return ec ? path : p.string();
}

void log_diagnostics(const Diagnostics& ds)
{
    std::ostringstream out;
    print_diagnostics(out, ds, false);
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            log::write(ds.has_errors() ? log::Severity::error : log::Severity::warning, line);
}

// The metrics listener the configuration asks for: kept when unchanged,
// otherwise replaced (or closed); a failure to bind is logged and leaves none.
void update_metrics(std::unique_ptr<metrics::Server>& server, const Config& config)
{
    const auto acl = config.metrics_acl.empty() ? metrics::loopback_acl() : config.metrics_acl;
    if (server && config.metrics && server->where() == *config.metrics && server->acl() == acl)
        return;
    if (server)
        log::notice("metrics: closed " + server->where().str());
    server.reset();
    if (!config.metrics)
        return;
    try {
        server = std::make_unique<metrics::Server>(*config.metrics, acl, TCPPROXY_VERSION);
        log::notice("metrics: serving GET /metrics on " + config.metrics->str());
    } catch (const std::exception& e) {
        log::error("metrics " + config.metrics->str() + ": " + e.what());
    }
}

// SIGHUP: a valid new config replaces the old one for new connections.
void reload(const CommandLine& cl, ConfigHolder& holder, ListenerSet& listeners, SessionPool& pool, Reaper& reaper,
            std::size_t fd_limit, std::unique_ptr<metrics::Server>& metrics_server)
{
    if (cl.server) {
        log::notice("SIGHUP: running from the command line (-b), nothing to reload");
        return;
    }
    log::notice("SIGHUP: reloading " + cl.config_file);
    auto loaded = launch::reload_config(cl.config_file);
    log_diagnostics(loaded.diagnostics);
    if (!loaded.config) {
        log::error("reload: " + cl.config_file + " has errors; keeping the running configuration");
        metrics::counters().reload(false);
        return;
    }
    auto settings = apply_command_line(cl, loaded.config);
    if (!settings) {
        log::error("reload: " + settings.error().message + "; keeping the running configuration");
        metrics::counters().reload(false);
        return;
    }
    for (const auto& problem : program_problems(**settings))
        log::warning("reload: " + problem);
    const auto old = holder.get();
    if ((*settings)->max_sessions != old->max_sessions) {
        // Running sessions are never cut: a higher limit adds slots now, a
        // lower one holds new connections back until enough have ended.
        const auto want = std::min<std::size_t>((*settings)->max_sessions, sessions_that_fit(fd_limit));
        if (want < (*settings)->max_sessions)
            log::warning("reload: max-sessions " + std::to_string((*settings)->max_sessions) + " needs more than the " +
                         std::to_string(fd_limit) + " descriptors allowed");
        log::notice("reload: max-sessions " + std::to_string(old->max_sessions) + " -> " +
                    std::to_string(pool.resize(want)) + " session slots");
    }
    holder.set(*settings);
    if ((*settings)->statdir != old->statdir)
        clean_stale_status_files((*settings)->statdir);
    listeners.update(**settings, pool, holder, reaper);
    update_metrics(metrics_server, **settings);
    metrics::counters().slots(pool.size());
    metrics::counters().reload(true);
    log::notice("reload: done, " + std::to_string(listeners.size()) + " port(s)");
}

} // namespace

int run_standalone(const CommandLine& cl_in, ConfigPtr config)
{
    CommandLine cl = cl_in;
    cl.config_file = absolute(cl.config_file); // the daemon works from /
    const std::string pidfile_path = absolute(config->pidfile);

    prepare_process_signals();
    log::init(log_options(*config, true)); // stderr until we are in the background
    if (config->ports.empty()) {
        log::error("no port to listen on");
        return 1;
    }
    for (const auto& problem : program_problems(*config))
        log::warning(problem);

    const auto limit = raise_descriptor_limit();
    std::size_t sessions = config->max_sessions;
    if (sessions_that_fit(limit) < sessions) {
        sessions = sessions_that_fit(limit);
        log::warning("max-sessions " + std::to_string(config->max_sessions) + " needs more than the " +
                     std::to_string(limit) + " descriptors allowed; serving at most " + std::to_string(sessions) +
                     " sessions at once");
    }

    // Before binding: a second daemon with the same pidfile leaves the first alone.
    std::optional<Pidfile> pidfile;
    if (!pidfile_path.empty()) {
        auto opened = Pidfile::open(pidfile_path);
        if (!opened) {
            log::error(opened.error().message);
            return 1;
        }
        pidfile.emplace(std::move(*opened));
    }

    ListenerSet listeners;
    try {
        listeners.bind_all(*config);
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }

    Fd readiness;
    if (!config->debug) {
        try {
            readiness = daemonize();
        } catch (const std::exception& e) {
            log::error(e.what());
            return 1;
        }
        log::init(log_options(*config, false));
    }

    if (pidfile) {
        try {
            pidfile->write(static_cast<long>(::getpid()));
        } catch (const std::exception& e) {
            log::error(std::string(e.what()) + " (" + pidfile_path + ")");
            report_readiness(readiness, std::string(e.what()) + " (" + pidfile_path + ")");
            return 1;
        }
    }

    // Root is given up here, before any thread starts; the spawner that keeps
    // it outlives everything below (it is destroyed last, then removes the pidfile).
    std::unique_ptr<Spawner> spawner;
    try {
        spawner = drop_privileges_standalone(cl, *config, pidfile ? pidfile_path : std::string());
        if (spawner && pidfile)
            pidfile->disown();
    } catch (const std::exception& e) {
        log::error(std::string("giving up root: ") + e.what());
        report_readiness(readiness, std::string("giving up root: ") + e.what());
        return 1;
    }
    // As the user that writes the status files (a root sweep could not remove
    // them without CAP_DAC_OVERRIDE, and must not touch what is not ours).
    clean_stale_status_files(config->statdir);

    Reaper reaper(Reaper::Mode::threaded, static_cast<long>(::getpid()));
    SessionPool pool(sessions, session_stack_bytes, reaper, static_cast<long>(::getpid()));
    ConfigHolder holder(config);
    listeners.start_all(pool, holder, reaper);
    metrics::counters().slots(pool.size());
    std::unique_ptr<metrics::Server> metrics_server;
    update_metrics(metrics_server, *config);
    log::notice(std::string("tcpproxy ") + TCPPROXY_VERSION + " started: " + std::to_string(listeners.size()) +
                " port(s), " + std::to_string(pool.size()) + " session slots");
    report_readiness(readiness, "");
    ServiceNotifier service;
    service.ready(listeners.size(), reaper.active());

    const sigset_t wanted = wake::control_signals();
    for (;;) {
        const int sig = next_signal(wanted, service.tick_interval());
        if (sig == 0) {
            service.tick(listeners.healthy() && reaper.healthy(reaper_stuck), reaper.active());
            continue;
        }
        if (sig == SIGHUP) {
            service.reloading();
            reload(cl, holder, listeners, pool, reaper, limit, metrics_server);
            service.ready(listeners.size(), reaper.active());
            continue;
        }
        log::notice(std::string("received ") + ::strsignal(sig) + ", shutting down");
        break;
    }

    service.stopping();
    metrics_server.reset();
    listeners.stop_all();
    if (!pool.stop_sessions(Status::proxy, "proxy shutting down", shutdown_grace))
        log::error("shutdown: some sessions did not end in time");
    reaper.stop();
    log::notice("stopped");
    return 0;
}

} // namespace tcpproxy
