#pragma once
// The channel between the daemon and its privileged spawner (see spawner.hpp
// and tcpproxy(1) SECURITY): whole messages over a socket, what they say
// as bytes, and what the spawner agrees to do. The messages as bytes: Pure encode/decode, unit tested: the
// spawner runs as root, so everything it reads is checked for form here
// before it acts on it (bounded counts and lengths, no trailing bytes).
//
// Descriptors travel beside the bytes (SCM_RIGHTS); a message says how many
// it expects, and the receiver refuses a message whose count does not match.
#include "tcpproxy/process/identity.hpp"
#include "tcpproxy/process/environment.hpp"
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/config/config_load.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/net/address.hpp"

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <string>
#include <variant>
#include <vector>

namespace tcpproxy::spawn_protocol {

// Bounds: more than this is a broken or hostile peer, not a real request.
inline constexpr std::size_t max_message = 256 * 1024;
inline constexpr std::size_t max_strings = 4096;
// A configuration text handed over on reload: the limit of read_config_text.
inline constexpr std::size_t max_config_text = max_config_bytes;

// Daemon -> spawner, on the shared request channel. Every request carries
// one descriptor first: the socket its answers come back on.

// Start a service's program: which one (`role` of service number `service`
// of configuration `generation`) and the per-session variables; the spawner
// takes program, arguments, user, group and environment from its own copy of
// that configuration (SpawnerPolicy below), never from the daemon.
// Descriptors after the answer socket: the program's stdin, stdout and
// stderr, those whose bit is set in `stdio` (bit 0 stdin, 1 stdout, 2
// stderr), in that order; a missing one is /dev/null. The answer socket then
// stays the program's control socket: Started or Failed, later Exited; the
// daemon may send Signal on it, and closing it kills the program. An exit
// handler leads a process group of its own, and Signal and that kill reach
// the whole group.
struct Spawn {
    std::uint32_t generation = 0;
    std::uint32_t service = 0;
    HandlerRole role = HandlerRole::exec;
    Variables variables; // names without prefix
    std::uint8_t stdio = 0;
    friend bool operator==(const Spawn&, const Spawn&) = default;
};

// Bind and listen on `where` (for a reload that adds a port); answered with
// Bound (the socket attached) or Failed.
struct Bind {
    Endpoint where;
    bool v6only = false;
    std::int32_t backlog = 0;
    friend bool operator==(const Bind&, const Bind&) = default;
};

// Re-read the configuration (SIGHUP): what the spawner will start and bind
// follows the file, not the daemon. The spawner reads the file once, as root,
// and answers with ConfigText (whether or not the text is valid: the daemon
// parses the very same bytes and reports its diagnostics), or with Failed
// when it cannot read the file (`call` then says how: "open: Permission denied").
struct Reload {
    friend bool operator==(const Reload&, const Reload&) = default;
};

using Request = std::variant<Spawn, Bind, Reload>;

// Spawner -> daemon, on a request's answer socket.
struct Started {
    pid_t pid = 0;
    friend bool operator==(const Started&, const Started&) = default;
};
struct Failed {
    std::int32_t err = 0; // errno
    std::string call;     // "execve(/x)", "setresuid(1000)", "not allowed: uid 0"
    friend bool operator==(const Failed&, const Failed&) = default;
};
struct Exited {
    std::int32_t wait_status = 0;
    friend bool operator==(const Exited&, const Exited&) = default;
};
struct Bound {
    friend bool operator==(const Bound&, const Bound&) = default;
};
// The configuration file's bytes, `size` of them, in the one descriptor
// attached: a memfd sealed against writing, growing and shrinking, so what
// the daemon reads is what the spawner read. (A SOCK_SEQPACKET message
// cannot carry up to max_config_text bytes itself.)
// `generation` is the number the spawner gave the text when it adopted it (0:
// not adopted, it does not load); the daemon asks for programs under it.
struct ConfigText {
    std::uint32_t size = 0;
    std::uint32_t generation = 0;
    friend bool operator==(const ConfigText&, const ConfigText&) = default;
};
using Answer = std::variant<Started, Failed, Exited, Bound, ConfigText>;

// Daemon -> spawner, on a program's control socket.
struct Signal {
    std::int32_t signo = 0;
    friend bool operator==(const Signal&, const Signal&) = default;
};

std::vector<std::uint8_t> encode(const Request& r);
std::vector<std::uint8_t> encode(const Answer& a);
std::vector<std::uint8_t> encode(const Signal& s);

std::optional<Request> decode_request(const std::uint8_t* data, std::size_t size);
std::optional<Answer> decode_answer(const std::uint8_t* data, std::size_t size);
std::optional<Signal> decode_signal(const std::uint8_t* data, std::size_t size);

// How many descriptors travel with a request (answer socket included).
std::size_t descriptors_of(const Request& r);
std::size_t descriptors_of(const Answer& a); // 1 for Bound and ConfigText, else 0

} // namespace tcpproxy::spawn_protocol

// ---- The transport
// Whole messages with descriptors attached over a SOCK_SEQPACKET UNIX socket:
// one send is one message, descriptors travel as SCM_RIGHTS, received ones
// are CLOEXEC at once. A message or descriptor list that does not fit is
// refused whole (and what did arrive is closed), never half-read.

namespace tcpproxy {

// A connected pair, both ends CLOEXEC and blocking.
std::pair<Fd, Fd> message_socket_pair();

// Sends `bytes` with `fds` attached. Returns 0 or the errno (EPIPE when the
// peer is gone: no SIGPIPE). `nonblocking`: EAGAIN instead of waiting for room.
int send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds,
                 bool nonblocking = false);

struct Received {
    enum class Kind { message, closed, would_block, broken } kind = Kind::message;
    std::vector<std::uint8_t> bytes;
    std::vector<Fd> fds;
    int err = 0; // broken: the errno, or EMSGSIZE for a truncated message
};

// Receives one message with at most `max_fds` descriptors.
Received receive_message(int sock, std::size_t max_bytes, std::size_t max_fds, bool nonblocking = false);

} // namespace tcpproxy

// ---- What the spawner agrees to
// What the privileged spawner agrees to do: start only the programs the
// configuration names, as the user it names, with an environment the spawner
// builds itself (the documented variables, their values cleaned, its own
// base environment without loader variables), and bind only the configured
// addresses and ports. The daemon that asks has given up root and may be
// under a client's control: it chooses only which configured program runs
// and the per-session values. Pure: unit tested.

namespace tcpproxy {

struct SpawnerPolicy {
    struct Generation {
        std::uint32_t number = 0;
        std::shared_ptr<const Config> config;
    };
    // Sessions started under an older configuration still end (and run their
    // exit handler) after a reload: the last few generations are kept.
    std::deque<Generation> generations;
    Credentials fallback;
    std::vector<std::string> base_env; // the spawner's own environment, unsafe_variable() names removed
};

inline constexpr std::size_t max_generations = 16;

// Generation 0 is `config`; `environment` (environ at start) is the base.
SpawnerPolicy spawner_policy(std::shared_ptr<const Config> config, const Credentials& fallback,
                             const char* const* environment);
// Makes `config` the newest generation; its number.
std::uint32_t adopt(SpawnerPolicy& policy, std::shared_ptr<const Config> config);

// A Spawn request resolved against the configuration: what to run, how, as whom.
struct Launch {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    Credentials as;
    bool process_group = false;
};

// The launch, or why not ("not allowed: ..." for the Failed answer and the log).
Result<Launch> resolve(const SpawnerPolicy& policy, const spawn_protocol::Spawn& request);
// Empty when allowed, else why not.
std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Bind& request);

} // namespace tcpproxy

// ---- The configuration text handed over on reload
// A configuration file's bytes on their way from the spawner to the daemon
// (ConfigText): on reload the spawner, still root, reads the file once
// (read_config_text, config_load.hpp), and the daemon parses exactly those
// bytes. So a file only root can read still reloads, and the two can never
// adopt different versions of it.

namespace tcpproxy {

// An anonymous in-memory file holding `text`, sealed so that no holder of
// the descriptor can change, grow or shrink it. Throws std::system_error.
Fd sealed_text(std::string_view text);

// The contents of a file from sealed_text. Refuses (std::system_error) a
// descriptor whose contents could still change or are not `size` bytes.
std::string read_sealed_text(int fd, std::size_t size);

} // namespace tcpproxy
