#pragma once
// Daemon life: descriptor limits, going to the background, the pidfile.
#include "tcpproxy/core/error.hpp"
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

// The pidfile, locked (flock) for the daemon's whole life so that one
// daemon runs per pidfile. Hand-written rather than libbsd's pidfile_open():
// that one follows symbolic links and accepts a FIFO or a hard link, which
// the daemon, opening the file as root, must refuse (tcpproxy(1) FILES).
class Pidfile {
public:
    // Opens `path` (O_NOFOLLOW|O_NONBLOCK: no link followed, never blocks on
    // a FIFO), checks it is a regular file with one link and takes the lock.
    // Fails when another process holds it ("... is locked by pid N"): a
    // stale file, whose writer is gone, is taken over. Call before binding.
    static Result<Pidfile> open(const std::string& path);
    Pidfile() = default;
    Pidfile(Pidfile&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)) { o.path_.clear(); }
    Pidfile& operator=(Pidfile&&) = delete;
    // Removes the file if this daemon still owns it (the path still names the
    // file locked here); the lock goes with the descriptor.
    ~Pidfile();
    // Writes `pid` (the daemon's, after going to the background); throws std::system_error.
    void write(long pid);
    // Someone else (the privileged spawner) removes the file now; the lock stays held.
    void disown() { path_.clear(); }

private:
    std::string path_;
    Fd fd_;
};

} // namespace tcpproxy
