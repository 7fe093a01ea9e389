// The command line merged into a Config (reference §2: command-line settings
// override the config file, for every service). Both entry points end in the
// same apply_* helpers, so an option means the same in -b, inetd and config
// mode.
#include "tcpproxy/cli/settings.hpp"
#include "tcpproxy/cli/bind_spec.hpp"
#include "tcpproxy/config/values.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <filesystem>
#include <utility>

namespace tcpproxy {

namespace {

// Everything the command line sets that is not per service.
void apply_globals(const CommandLine& cl, Config& config)
{
    if (cl.standalone)
        config.standalone = true;
    if (cl.pidfile)
        config.pidfile = *cl.pidfile;
    if (cl.statdir)
        config.statdir = *cl.statdir;
    if (cl.metrics)
        config.metrics = *cl.metrics;
    if (cl.session_mode) {
        // -E is "for every exit code": it brings its own exit-code list.
        config.session.mode = *cl.session_mode;
        config.session.exit_codes = all_statuses;
    }
    if (cl.exit_handler)
        config.session.exit_handler = *cl.exit_handler;
    if (cl.session_dir)
        config.session.dir = *cl.session_dir;
    if (cl.debug)
        config.debug = true;
    if (cl.no_resolve)
        config.resolve_names = false;
    if (cl.empty_env)
        config.empty_env = true;
}

void apply_service(const CommandLine& cl, const std::optional<Identity>& user, Service& service)
{
    if (cl.acp)
        service.acp = *cl.acp;
    if (cl.timeout)
        service.timeout = *cl.timeout;
    if (cl.redirect)
        service.redirect = *cl.redirect;
    if (cl.srcip) {
        // One source address given on the command line replaces a rotation.
        service.srcip = *cl.srcip;
        service.rotate.reset();
    }
    if (user)
        service.user = *user;
    if (cl.writefile)
        service.writefile = *cl.writefile;
    if (cl.extended_info)
        service.extended_info = true;
    if (cl.logname)
        service.logname = *cl.logname;
    if (cl.var_prefix)
        service.var_prefix = *cl.var_prefix;
    service.acl.insert(service.acl.end(), cl.acl.begin(), cl.acl.end());
}

// -u resolved to ids; none when not given.
Result<std::optional<Identity>> resolve_user(const CommandLine& cl)
{
    if (!cl.user)
        return std::nullopt;
    auto identity = parse_identity(*cl.user);
    if (!identity)
        return fail("tcpproxy: option -u: " + identity.error().message);
    return std::move(*identity);
}

} // namespace

SettingsResult config_from_command_line(const CommandLine& cl)
{
    if (!cl.server)
        return fail("tcpproxy: no SERVER to forward to");

    auto config = std::make_shared<Config>();
    PortConfig port;
    Service service;
    if (cl.bind) {
        auto bind = cli::parse_bind(*cl.bind);
        if (!bind)
            return fail("tcpproxy: option -b: " + bind.error().message);
        port.port = bind->port;
        service.interface = bind->interface;
        config->standalone = true;
    } else {
        // inetd: the process serves the one connection on stdin, so the port
        // is whatever it arrived on; 0 stands for "the local port of stdin".
        port.port = 0;
        service.interface.kind = InterfaceSpec::Kind::any;
        service.interface.text = "*";
        config->standalone = false;
    }

    const std::string& server = *cl.server;
    if (grammar::is_program(server)) {
        service.exec.push_back(server);
        service.exec.insert(service.exec.end(), cl.server_args.begin(), cl.server_args.end());
    } else {
        if (!cl.server_args.empty())
            return fail("tcpproxy: unexpected argument after SERVER \"" + server + "\"");
        auto upstream = parse_upstream(server);
        if (!upstream)
            return fail("tcpproxy: SERVER: " + upstream.error().message);
        service.servers.push_back(std::move(*upstream));
    }

    const auto user = resolve_user(cl);
    if (!user)
        return std::unexpected(user.error());
    apply_globals(cl, *config);
    apply_service(cl, *user, service);

    port.services.push_back(std::move(service));
    config->ports.push_back(std::move(port));
    return config;
}

SettingsResult apply_command_line(const CommandLine& cl, std::shared_ptr<Config> file_config)
{
    if (!file_config)
        return fail("tcpproxy: no configuration to apply the command line to");
    const auto user = resolve_user(cl);
    if (!user)
        return std::unexpected(user.error());

    // A copy, so that a caller holding the file's Config (a reload comparing
    // old and new) never sees it change.
    auto config = std::make_shared<Config>(*file_config);
    apply_globals(cl, *config);
    for (PortConfig& port : config->ports)
        for (Service& service : port.services)
            apply_service(cl, *user, service);
    return config;
}

CommandLine with_absolute_paths(CommandLine cl)
{
    std::error_code ec;
    const std::string base = std::filesystem::current_path(ec).string();
    if (ec)
        return cl; // no current directory to resolve against: paths stay as given
    const auto resolve = [&](std::optional<std::string>& path) {
        if (path)
            path = resolve_path(*path, base);
    };
    resolve(cl.acp);
    resolve(cl.statdir);
    resolve(cl.pidfile);
    resolve(cl.writefile);
    resolve(cl.session_dir);
    if (cl.exit_handler && !cl.exit_handler->empty())
        cl.exit_handler->front() = resolve_path(cl.exit_handler->front(), base);
    if (cl.server && grammar::is_program(*cl.server))
        resolve(cl.server);
    return cl;
}

} // namespace tcpproxy
