#include "capture_open.hpp"

#include "tcpproxy/log/log.hpp"

#include <exception>

namespace tcpproxy {

std::unique_ptr<CaptureWriter> open_capture(const SessionRecord& r, long main_pid)
{
    if (!r.service || r.service->writefile.empty())
        return nullptr;
    const std::string path = capture_file_path(r.service->writefile, static_cast<pid_t>(main_pid), r.id);
    try {
        return std::make_unique<CaptureWriter>(path);
    } catch (const std::exception& e) {
        log::error(std::string("capture: ") + e.what() + "; session not captured", r.id);
        return nullptr;
    }
}

void close_capture(std::unique_ptr<CaptureWriter>& capture, std::uint64_t session_id)
{
    if (!capture)
        return;
    capture->close();
    if (const auto dropped = capture->dropped_bytes())
        log::warning("capture " + capture->name() + ": " + std::to_string(dropped) +
                         " bytes not captured (the disk did not keep up; DROP records mark them)",
                     session_id);
    if (const auto error = capture->error(); !error.empty())
        log::error("capture: " + error, session_id);
    capture.reset();
}

} // namespace tcpproxy
