#pragma once
// A child process with one owner. Started with posix_spawn (vfork-based: no
// copy of a large parent's page tables), watched through a pidfd so that its
// exit can be polled together with other descriptors and can never be
// confused with a reused pid. A Child that is destroyed unreaped is killed
// and reaped: no zombies.
#include "tcpproxy/fd.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

class Child {
public:
    struct Spec {
        std::vector<std::string> argv;   // argv[0] is the program (searched in PATH when it has no '/')
        std::vector<std::string> env;    // NAME=VALUE
        int stdin_fd = -1;               // -1: /dev/null
        int stdout_fd = -1;
        int stderr_fd = -1;
    };

    Child() = default;
    Child(Child&&) noexcept = default;
    Child& operator=(Child&&) noexcept;
    ~Child();

    // Throws std::system_error ("posix_spawn: No such file or directory"...).
    static Child spawn(const Spec& spec);

    bool running() const { return pidfd_.valid(); }
    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }

    // Reaps the child if it has exited: its wait status (as waitpid gives it).
    std::optional<int> try_reap();
    // Blocks until the child has exited; its wait status.
    int reap();
    void signal(int sig) noexcept;

private:
    void kill_and_reap() noexcept;
    pid_t pid_ = -1;
    Fd pidfd_;
};

// "exit 3", "signal 9 (Killed)": for logs.
std::string describe_wait_status(int status);

} // namespace tcpproxy
