// Validation in passes: sort the directives into levels (tree.cpp), then
// check what only the whole file can tell (session set, exclusive pairs,
// shadowed sections), then resolve every service by inheritance.
#include "validate.hpp"

#include "inherit.hpp"
#include "session_rules.hpp"
#include "shadow.hpp"
#include "tree.hpp"

namespace tcpproxy::config {

namespace {

InterfaceSpec wildcard()
{
    return InterfaceSpec{.kind = InterfaceSpec::Kind::any, .address = {}, .name = {}, .text = "*"};
}

void set_globals(Config& config, const GlobalLayer& g)
{
    if (g.standalone)
        config.standalone = g.standalone->value;
    if (g.pidfile)
        config.pidfile = g.pidfile->value;
    if (g.statdir)
        config.statdir = g.statdir->value;
    if (g.max_sessions)
        config.max_sessions = g.max_sessions->value;
    if (g.metrics)
        config.metrics = g.metrics->value;
    if (g.metrics_acl)
        config.metrics_acl = g.metrics_acl->value;
}

// The privileged spawner starts a service's programs as its user: uid 0 or
// gid 0 there hands a client's input to root (tcpproxy(1) SECURITY).
void warn_root_identity(const Service& s, const ast::Directive& at, Reporter& report)
{
    const bool uid0 = s.user.uid && *s.user.uid == 0;
    const bool gid0 = s.user.gid && *s.user.gid == 0;
    if (uid0 || gid0)
        report.warning(at, "this service's programs and data run with " +
                               std::string(uid0 && gid0 ? "uid 0 and gid 0"
                                           : uid0       ? "uid 0"
                                                        : "gid 0") +
                               " ('user " + s.user.text + "')");
}

PortConfig resolve_port(const ConfigTree& tree, const PortBlock& block, Reporter& report)
{
    PortConfig port;
    port.port = block.port.value_or(0);
    port.line = report.line_of(*block.at);

    auto resolve = [&](const std::vector<const ServiceLayer*>& levels, const InterfaceSpec& spec,
                       const ast::Directive& at) {
        auto resolved = resolve_service(levels, spec, report.line_of(at));
        if (!resolved.has_handler && !resolved.incomplete)
            report.error(at, "no 'server' or 'exec' for this service (set one here, at port level or globally)");
        warn_root_identity(resolved.service, at, report);
        port.services.push_back(std::move(resolved.service));
    };

    // A port without interface lines is one service on every interface.
    if (block.sections.empty()) {
        resolve({&tree.defaults, &block.layer}, wildcard(), *block.at);
        return port;
    }
    for (const auto& section : block.sections) {
        check_exclusive(section.layer, report);
        resolve({&tree.defaults, &block.layer, &section.layer}, section.interface.value_or(wildcard()), *section.at);
    }
    return port;
}

} // namespace

std::shared_ptr<Config> validate(const ast::File& file, Reporter& report, const std::string& file_name)
{
    const ConfigTree tree = build_tree(file, report);

    auto config = std::make_shared<Config>();
    config->file = file_name;
    set_globals(*config, tree.global);
    config->session = check_session(tree.global, report);
    if (tree.global.session_keep_limit)
        config->session.keep_limit = tree.global.session_keep_limit->value;

    check_exclusive(tree.defaults, report);
    if (tree.ports.empty())
        report.file_error("no 'port' block: there is nothing to serve");
    for (const auto& block : tree.ports) {
        check_exclusive(block.layer, report);
        warn_shadowed_sections(block, report);
        auto port = resolve_port(tree, block, report);
        if (!block.duplicate)
            config->ports.push_back(std::move(port));
    }
    return config;
}

} // namespace tcpproxy::config
