// Validation in passes: sort the directives above the ports into their
// levels (tree.cpp) and check the session set, then port by port: its
// levels, exclusive pairs and shadowed sections, and every service of it
// resolved by inheritance.
#include "validate.hpp"

#include "inherit.hpp"
#include "session_rules.hpp"
#include "shadow.hpp"
#include "tree.hpp"

#include <array>
#include <span>

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

    auto resolve = [&](std::span<const ServiceLayer* const> levels, InterfaceSpec spec, const ast::Directive& at) {
        auto resolved = resolve_service(levels, std::move(spec), report.line_of(at));
        if (!resolved.has_handler && !resolved.incomplete)
            report.error(at, "no 'server' or 'exec' for this service (set one here, at port level or globally)");
        warn_root_identity(resolved.service, at, report);
        port.services.push_back(std::move(resolved.service));
    };

    // A port without interface lines is one service on every interface.
    if (block.sections.empty()) {
        resolve(std::array{&tree.defaults, &block.layer}, wildcard(), *block.at);
        return port;
    }
    port.services.reserve(block.sections.size());
    for (const auto& section : block.sections) {
        check_exclusive(section.layer, report);
        resolve(std::array{&tree.defaults, &block.layer, &section.layer}, section.interface.value_or(wildcard()),
                *section.at);
    }
    return port;
}

} // namespace

Validation::Validation(Reporter& report, const std::string& file_name)
    : report_(report), levels_(report), config_(std::make_shared<Config>())
{
    config_->file = file_name;
}

void Validation::above_ports(const ast::File& file)
{
    const ConfigTree& tree = levels_.above_ports(file);
    set_globals(*config_, tree.global);
    config_->session = check_session(tree.global, report_);
    if (tree.global.session_keep_limit)
        config_->session.keep_limit = tree.global.session_keep_limit->value;
    check_exclusive(tree.defaults, report_);
    above_ = &tree;
}

// A port's levels live only while it is resolved (tree.hpp).
void Validation::port(const ast::File& above, const ast::PortSection& section)
{
    if (!above_)
        above_ports(above);
    const PortBlock& block = levels_.port(section);
    check_exclusive(block.layer, report_);
    warn_shadowed_sections(block, report_);
    auto port = resolve_port(*above_, block, report_);
    if (!block.duplicate)
        config_->ports.push_back(std::move(port));
}

std::shared_ptr<Config> Validation::finish(const ast::File& file)
{
    if (!above_) {
        above_ports(file);
        report_.file_error("no 'port' block: there is nothing to serve");
    }
    return std::move(config_);
}

} // namespace tcpproxy::config
