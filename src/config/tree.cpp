#include "tree.hpp"

#include "directive_table.hpp"
#include "suggest.hpp"
#include "tcpproxy/config/values.hpp"
#include "tcpproxy/grammar/directives.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <map>
#include <vector>

namespace tcpproxy::config {

namespace {

using grammar::Level;

void unknown_keyword(const ast::Directive& d, Reporter& report)
{
    std::vector<std::string_view> keywords;
    for (const auto& info : grammar::directives())
        keywords.push_back(info.keyword);
    const auto lower = boost::algorithm::to_lower_copy(d.keyword);
    if (lower != d.keyword && grammar::find_directive(lower)) {
        report.error(d, "unknown keyword '" + d.keyword + "': keywords are lower case (did you mean '" + lower + "'?)");
        return;
    }
    report.error(d, "unknown keyword '" + d.keyword + "' (did you mean '" + nearest(d.keyword, keywords) + "'?)");
}

// False when the grammar could not read the directive's arguments (their
// count is wrong: reported).
bool read(const ast::Directive& d) { return !std::holds_alternative<std::monostate>(d.value); }

} // namespace

const ConfigTree& TreeBuilder::above_ports(const ast::File& file)
{
    section(file.global, tree_.defaults, true);
    for (const auto& orphan : file.orphans) {
        report_.error(orphan.line, "'interface' before any 'port': an interface section belongs to a port");
        // Its settings are checked, then dropped: they belong to no port.
        ServiceLayer dropped;
        section(orphan.body, dropped, true);
    }
    return tree_;
}

const PortBlock& TreeBuilder::port(const ast::PortSection& port)
{
    open_port(port.line);
    section(port.body, block_.layer, false);
    block_.sections.reserve(port.interfaces.size());
    for (const auto& interface : port.interfaces) {
        block_.sections.push_back(open_section(interface.line));
        section(interface.body, block_.sections.back().layer, false);
    }
    return block_;
}

// The directives of one level; global-only ones only before the first port.
void TreeBuilder::section(const ast::Section& s, ServiceLayer& layer, bool global)
{
    if (s.broken)
        layer.incomplete = true;
    for (const auto& d : s.directives)
        directive(d, layer, global);
}

void TreeBuilder::directive(const ast::Directive& d, ServiceLayer& layer, bool global)
{
    const auto* info = d.info;
    if (!info) {
        unknown_keyword(d, report_);
        layer.incomplete = true;
        return;
    }
    // (a `port` or `interface` line here lacks its argument: ast::File)
    if (!read(d)) {
        if (info->level == Level::service)
            layer.incomplete = true;
        return;
    }
    if (info->level == Level::global_only && !global) {
        report_.error(d, "'" + d.keyword + "' is a global setting: it belongs before the first 'port'");
        return;
    }
    DirectiveUse use{report_, d, tree_.global, layer, lookups_};
    find_apply(d.keyword)->apply(use);
}

// A bad `port` line still opens its level, so the directives under it
// are not blamed on the level above. The block of the port before is
// cleared for it: its storage serves every port in turn.
void TreeBuilder::open_port(const ast::Directive& d)
{
    std::optional<std::uint16_t> number;
    if (read(d)) {
        const auto& a = d.arguments[0];
        auto parsed = parse_port(a.text);
        if (parsed)
            number = *parsed;
        else
            report_.error(grammar::text_of(a), parsed.error().message);
    }
    block_.at = &d;
    block_.port = number;
    block_.duplicate = false;
    block_.layer = ServiceLayer{};
    block_.sections.clear();
    if (number) {
        auto [it, fresh] = seen_ports_.try_emplace(*number, 0);
        if (fresh) {
            it->second = report_.line_of(d);
        } else {
            report_.error(d, "port " + std::to_string(*number) + " is already defined on line " +
                                 std::to_string(it->second) + " (one 'port' block per port)");
            block_.duplicate = true;
        }
    }
}

SectionBlock TreeBuilder::open_section(const ast::Directive& d)
{
    SectionBlock section;
    section.at = &d;
    if (read(d)) {
        const auto& a = d.arguments[0];
        auto spec = parse_interface(a.text);
        if (spec)
            section.interface = std::move(*spec);
        else
            report_.error(grammar::text_of(a), spec.error().message);
    }
    return section;
}

} // namespace tcpproxy::config
