#include "shadow.hpp"

namespace tcpproxy::config {

namespace {

// True when every connection `later` could match is taken by `earlier`.
bool shadows(const InterfaceSpec& earlier, const InterfaceSpec& later)
{
    using Kind = InterfaceSpec::Kind;
    if (earlier.kind == Kind::any)
        return true;
    if (earlier.kind != later.kind)
        return false;
    return earlier.kind == Kind::address ? earlier.address == later.address : earlier.name == later.name;
}

} // namespace

void warn_shadowed_sections(const PortBlock& port, Reporter& report)
{
    const auto& sections = port.sections;
    for (std::size_t j = 1; j < sections.size(); ++j) {
        if (!sections[j].interface)
            continue;
        for (std::size_t i = 0; i < j; ++i) {
            if (!sections[i].interface || !shadows(*sections[i].interface, *sections[j].interface))
                continue;
            const auto& earlier = *sections[i].interface;
            const std::string why = earlier.kind == InterfaceSpec::Kind::any ? "takes every connection first"
                                                                             : "already serves the same interface";
            const auto& at = *sections[j].at;
            report.warning(at.arguments.empty() ? grammar::begin_of(at) : grammar::text_of(at.arguments[0]),
                           "this section can never match: 'interface " + earlier.text + "' on line " +
                               std::to_string(report.line_of(*sections[i].at)) + " " + why);
            break;
        }
    }
}

} // namespace tcpproxy::config
