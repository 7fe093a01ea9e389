#pragma once
// A child process with one owner. Started with posix_spawn (vfork-based: no
// copy of a large parent's page tables), watched through a pidfd so that its
// exit can be polled together with other descriptors and can never be
// confused with a reused pid. A Child that is destroyed unreaped is killed
// and reaped: no zombies.
//
// A remote Child was started by the privileged spawner (spawner.hpp) and is
// the spawner's child, not ours: it is watched through its control socket,
// which becomes readable when the spawner reports its exit; signals go as
// requests on that socket, and closing it makes the spawner kill and reap it.
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/process/environment.hpp"

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

class Child {
public:
    struct Spec {
        std::vector<std::string> argv; // argv[0] is the program (searched in PATH when it has no '/')
        std::vector<std::string> env;  // NAME=VALUE
        int stdin_fd = -1;             // -1: /dev/null
        int stdout_fd = -1;
        int stderr_fd = -1;
        // In a process group of its own, which signal() and the kill at the
        // Child's end reach as a whole (the exit handler's bound, §4.7).
        bool process_group = false;
        // Which service program this is: through the privileged spawner only
        // this travels (with the stdio descriptors); argv, env and the group
        // come from the spawner's own configuration (launch.hpp).
        std::optional<HandlerRef> handler = std::nullopt;
    };

    Child() = default;
    Child(Child&&) noexcept = default;
    Child& operator=(Child&&) noexcept;
    ~Child();

    // Descriptors other than the three are closed in the child. Throws
    // std::system_error ("execve(/x): No such file or directory"...).
    static Child spawn(const Spec& spec);
    // A program the spawner started: `control` is its control socket.
    static Child remote(Fd control, pid_t pid);

    bool running() const { return watch_.valid(); }
    pid_t pid() const { return pid_; }
    // Readable (POLLIN) once the child has exited: poll it, then try_reap().
    int watch_fd() const { return watch_.get(); }

    // Reaps the child if it has exited: its wait status (as waitpid gives it).
    std::optional<int> try_reap();
    // Blocks until the child has exited; its wait status.
    int reap();
    // To its process group as well when it has one of its own.
    void signal(int sig) noexcept;

private:
    void kill_and_reap() noexcept;
    std::optional<int> take_report(bool wait);
    pid_t pid_ = -1;
    Fd watch_; // local: the pidfd; remote: the control socket
    bool remote_ = false;
    bool group_ = false; // local only: the spawner keeps this for a remote child
};

// The wait status (as waitpid encodes it) that waitid() reported in `info`.
int wait_status_of(const siginfo_t& info);

// "exit 3", "signal 9 (Killed)": for logs.
std::string describe_wait_status(int status);

} // namespace tcpproxy
