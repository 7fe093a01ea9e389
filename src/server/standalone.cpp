// Standalone daemon life (reference §1): bind, go to the background, serve,
// and react to signals: SIGTERM/SIGINT shut down cleanly, SIGHUP reloads.
#include "daemon.hpp"
#include "listener.hpp"
#include "tcpproxy/process/launch.hpp"
#include "process_setup.hpp"
#include "session_pool.hpp"
#include "tcpproxy/core/wake.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"
#include "tcpproxy/log/log.hpp"
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/server/server.hpp"
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/config/values.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

namespace tcpproxy {

namespace {

// How long running sessions get to end after SIGTERM before we give up waiting.
constexpr std::chrono::seconds shutdown_grace{15};

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

// SIGHUP: a valid new config replaces the old one for new connections.
void reload(const CommandLine& cl, ConfigHolder& holder, ListenerSet& listeners, SessionPool& pool, Reaper& reaper,
            std::size_t fd_limit)
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
        return;
    }
    auto settings = apply_command_line(cl, loaded.config);
    if (!settings) {
        log::error("reload: " + settings.error().message + "; keeping the running configuration");
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
    log::notice(std::string("tcpproxy ") + TCPPROXY_VERSION + " started: " + std::to_string(listeners.size()) +
                " port(s), " + std::to_string(pool.size()) + " session slots");
    report_readiness(readiness, "");

    const sigset_t wanted = wake::control_signals();
    for (;;) {
        int sig = 0;
        if (::sigwait(&wanted, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(cl, holder, listeners, pool, reaper, limit);
            continue;
        }
        log::notice(std::string("received ") + ::strsignal(sig) + ", shutting down");
        break;
    }

    listeners.stop_all();
    if (!pool.stop_sessions(Status::proxy, "proxy shutting down", shutdown_grace))
        log::error("shutdown: some sessions did not end in time");
    reaper.stop();
    log::notice("stopped");
    return 0;
}

} // namespace tcpproxy
