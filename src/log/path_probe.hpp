#pragma once
// Whether a path exists, asked of the kernel at most once per interval
// (defined in log.cpp, beside the syslog sink that asks). The
// syslog sink asks it before every message: glibc's syslog() tries socket +
// connect + close on every call while /dev/log is missing (a container, a
// test machine), three wasted system calls per log line; a cached look
// costs none, and a syslog daemon started later is found within the interval.
#include <atomic>
#include <cstdint>
#include <string>

namespace tcpproxy::log {

class PathProbe {
public:
    PathProbe(std::string path, std::int64_t interval_ms) : path_(std::move(path)), interval_ms_(interval_ms) {}

    bool present();

private:
    std::string path_;
    std::int64_t interval_ms_;
    std::atomic<std::int64_t> next_check_ms_{0}; // 0: never looked yet
    std::atomic<bool> present_{false};
};

} // namespace tcpproxy::log
