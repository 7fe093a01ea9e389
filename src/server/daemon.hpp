#pragma once
// Daemon life: descriptor limits, going to the background, the pidfile.
#include "tcpproxy/core/fd.hpp"

#include <cstddef>
#include <string>

namespace tcpproxy {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the limit now in force.
std::size_t raise_descriptor_limit();

// Descriptors kept aside for listeners, logging, reloads and idle pipes.
inline constexpr std::size_t reserved_descriptors = 96;
// How many sessions fit `limit` descriptors: an idle session holds two sockets
// (pipes are lent only while data moves, and fall back to read/write when none is left).
std::size_t sessions_that_fit(std::size_t limit);

// Forks into the background (new session, cwd /, stdio on /dev/null). Returns
// in the child only, with the descriptor to report readiness through; the
// parent waits for that report and exits 0, or prints the error and exits 1.
Fd daemonize();
// In the daemon: tells the waiting parent we are up ("" = ok) or why not.
void report_readiness(Fd& channel, const std::string& error);

// Writes our pid to `path` (O_NOFOLLOW) and removes the file when destroyed.
class Pidfile {
public:
    Pidfile() = default;
    explicit Pidfile(std::string path); // throws std::system_error
    Pidfile(Pidfile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
    Pidfile& operator=(Pidfile&&) = delete;
    ~Pidfile();
    // Someone else (the privileged spawner) removes the file now.
    void disown() { path_.clear(); }

private:
    std::string path_;
};

} // namespace tcpproxy
