#include "session_rules.hpp"

#include <algorithm>
#include <vector>

namespace tcpproxy::config {

SessionHandling check_session(const GlobalLayer& g, Reporter& report)
{
    std::vector<const ast::Directive*> given;
    for (const ast::Directive* d :
         {g.session_dir ? g.session_dir->from : nullptr, g.session_mode ? g.session_mode->from : nullptr,
          g.exit_codes ? g.exit_codes->from : nullptr, g.exit_handler ? g.exit_handler->from : nullptr})
        if (d)
            given.push_back(d);
    if (given.empty())
        return {};
    std::sort(given.begin(), given.end(),
              [&](auto* a, auto* b) { return grammar::begin_of(*a) < grammar::begin_of(*b); });
    const ast::Directive& first = *given.front();

    if (g.session_mode && !g.session_mode->valid)
        return {}; // the unknown mode is reported; what else it needs is unknown
    const auto mode = g.session_mode ? g.session_mode->value : SessionMode::none;
    if (g.session_mode && mode == SessionMode::none) {
        if (given.size() > 1)
            report.warning(first, "session handling is off ('session-mode none'): session-dir, exit-code and "
                                  "exit-handler have no effect");
        return {};
    }

    std::vector<std::string> missing;
    if (!g.session_dir)
        missing.emplace_back("session-dir");
    if (!g.session_mode)
        missing.emplace_back("session-mode");
    if (!g.exit_codes)
        missing.emplace_back("exit-code");
    if (mode == SessionMode::process && !g.exit_handler)
        missing.emplace_back("exit-handler");
    if (!missing.empty()) {
        std::string list;
        for (std::size_t i = 0; i < missing.size(); ++i)
            list += (i == 0 ? "'" : (i + 1 == missing.size() ? "' and '" : "', '")) + missing[i];
        report.error(first, "incomplete session handling: " + list +
                                "' missing (session handling needs session-dir, session-mode, exit-code and, "
                                "for 'process', exit-handler)");
        return {};
    }
    if (mode == SessionMode::keep && g.exit_handler)
        report.warning(*g.exit_handler->from, "'exit-handler' is only run with 'session-mode process'");

    SessionHandling session;
    session.mode = mode;
    session.dir = g.session_dir->value;
    session.exit_codes = g.exit_codes->value;
    if (g.exit_handler)
        session.exit_handler = g.exit_handler->value;
    return session;
}

} // namespace tcpproxy::config
