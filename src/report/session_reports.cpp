#include "tcpproxy/report/session_reports.hpp"

#include "exit_handler_pool.hpp"
#include "session_log_files.hpp"
#include "tcpproxy/report/status_file_observer.hpp"

namespace tcpproxy {

void add_session_reports(Reaper& reaper, long main_pid, bool threaded)
{
    auto logs = std::make_shared<SessionLogs>();
    // A weak reference: messages logged after the reaper (and the table) are gone go nowhere.
    log::set_session_tap([weak = std::weak_ptr<SessionLogs>(logs)](std::uint64_t id, log::Severity s,
                                                                    std::string_view m) {
        if (auto l = weak.lock())
            l->append(id, s, m);
    });
    reaper.add(std::make_shared<StatusFiles>(main_pid));
    reaper.add(std::make_shared<SessionLogOpener>(logs, main_pid));
    reaper.add(std::make_shared<SessionLogLines>());
    reaper.add(std::make_shared<SessionLogCloser>(logs, main_pid,
                                                  threaded ? ExitHandlerPool::default_threads : 0));
}

} // namespace tcpproxy
