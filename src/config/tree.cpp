#include "tree.hpp"

#include "directive_table.hpp"
#include "suggest.hpp"
#include "tcpproxy/config/values.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <map>
#include <vector>

namespace tcpproxy::config {

namespace {

void unknown_keyword(const ast::Directive& d, Reporter& report) {
    std::vector<std::string_view> keywords;
    for (const auto& spec : directive_table())
        keywords.push_back(spec.keyword);
    const auto lower = boost::algorithm::to_lower_copy(d.keyword);
    if (lower != d.keyword && find_directive(lower)) {
        report.error(d, "unknown keyword '" + d.keyword + "': keywords are lower case (did you mean '" + lower + "'?)");
        return;
    }
    report.error(d, "unknown keyword '" + d.keyword + "' (did you mean '" + nearest(d.keyword, keywords) + "'?)");
}

// True when the argument count fits; reports it otherwise.
bool arity_ok(const DirectiveSpec& spec, const ast::Directive& d, Reporter& report) {
    const auto n = d.arguments.size();
    if (n < spec.min_args) {
        report.error(d, std::string(n == 0 ? "missing argument" : "missing arguments") + " for '" + d.keyword +
                            "' (usage: " + std::string(spec.usage) + ")");
        return false;
    }
    if (n > spec.max_args) {
        report.error(d.arguments[spec.max_args], "too many arguments for '" + d.keyword + "' (usage: " +
                                                     std::string(spec.usage) + ")");
        return false;
    }
    return true;
}

class TreeBuilder {
public:
    explicit TreeBuilder(Reporter& report) : report_(report) {}

    void directive(const ast::Directive& d) {
        const auto* spec = find_directive(d.keyword);
        if (!spec) {
            unknown_keyword(d, report_);
            current_layer().incomplete = true;
            return;
        }
        if (!arity_ok(*spec, d, report_)) {
            if (spec->scope == Scope::service)
                current_layer().incomplete = true;
            // A broken port/interface line still opens its level, so the
            // directives under it are not blamed on the level above.
            if (spec->scope == Scope::port)
                open_port(d, std::nullopt);
            else if (spec->scope == Scope::interface && !tree_.ports.empty())
                open_section(d, std::nullopt);
            return;
        }
        switch (spec->scope) {
        case Scope::port:
            port(d);
            return;
        case Scope::interface:
            interface(d);
            return;
        case Scope::global_only:
            if (!tree_.ports.empty()) {
                report_.error(d, "'" + d.keyword + "' is a global setting: it belongs before the first 'port'");
                return;
            }
            break;
        case Scope::service:
            break;
        }
        DirectiveUse use{report_, d, tree_.global, current_layer(), lookups_};
        spec->apply(use);
    }

    // A line the grammar rejected, met before the directive after it.
    void broken_line() { current_layer().incomplete = true; }

    ConfigTree take() { return std::move(tree_); }

private:
    ServiceLayer& current_layer() {
        if (orphan_section_)
            return orphan_;
        if (tree_.ports.empty())
            return tree_.defaults;
        auto& port = tree_.ports.back();
        return port.sections.empty() ? port.layer : port.sections.back().layer;
    }

    void port(const ast::Directive& d) {
        const auto& a = d.arguments[0];
        auto number = parse_port(a.text);
        if (!number)
            report_.error(report_.text_of(a), number.error().message);
        open_port(d, number ? std::optional(*number) : std::nullopt);
    }

    void open_port(const ast::Directive& d, std::optional<std::uint16_t> number) {
        orphan_section_ = false;
        PortBlock block;
        block.at = &d;
        block.port = number;
        if (number) {
            auto [it, fresh] = seen_ports_.emplace(*number, &d);
            if (!fresh) {
                report_.error(d, "port " + std::to_string(*number) + " is already defined on line " +
                                     std::to_string(report_.line_of(*it->second)) + " (one 'port' block per port)");
                block.duplicate = true;
            }
        }
        tree_.ports.push_back(std::move(block));
    }

    void interface(const ast::Directive& d) {
        if (tree_.ports.empty()) {
            report_.error(d, "'interface' before any 'port': an interface section belongs to a port");
            // Its settings are checked, then dropped: they belong to no port.
            orphan_section_ = true;
            orphan_ = ServiceLayer{};
            return;
        }
        const auto& a = d.arguments[0];
        auto spec = parse_interface(a.text);
        if (!spec)
            report_.error(report_.text_of(a), spec.error().message);
        open_section(d, spec ? std::optional(std::move(*spec)) : std::nullopt);
    }

    void open_section(const ast::Directive& d, std::optional<InterfaceSpec> spec) {
        if (tree_.ports.empty())
            return;
        SectionBlock section;
        section.at = &d;
        section.interface = std::move(spec);
        tree_.ports.back().sections.push_back(std::move(section));
    }

    Reporter& report_;
    Lookups lookups_;
    ConfigTree tree_;
    std::map<std::uint16_t, const ast::Directive*> seen_ports_;
    bool orphan_section_ = false;
    ServiceLayer orphan_;
};

} // namespace

ConfigTree build_tree(const ast::Directives& directives, const std::vector<int>& broken_lines, Reporter& report) {
    TreeBuilder builder(report);
    auto broken = broken_lines.begin();
    for (const auto& d : directives) {
        const int line = report.line_of(d);
        for (; broken != broken_lines.end() && *broken < line; ++broken)
            builder.broken_line();
        builder.directive(d);
    }
    for (; broken != broken_lines.end(); ++broken)
        builder.broken_line();
    return builder.take();
}

} // namespace tcpproxy::config
