#pragma once
// One connection's life: matching its section, access, the upstream
// connection or the handler program, then the two copy directions. A Session
// object is reused: the pool keeps one per slot, inetd mode makes one.
//
// Threads: the primary thread runs everything up to the relay and then the
// client -> server direction; the secondary runs server -> client. Whichever
// leaves last closes the sockets and hands the record to the host (which
// passes it to the reaper); that call is the last touch of the object.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/config/session_record.hpp"
#include "tcpproxy/core/activity.hpp"
#include "tcpproxy/core/error.hpp"
#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/process/child.hpp"
#include "tcpproxy/process/supervisor.hpp"
#include "tcpproxy/report/capture.hpp"
#include "tcpproxy/report/reaper.hpp"
#include "tcpproxy/session/client_limit.hpp"

#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

class Session;
struct RelayOutcome;
enum class RedirectAction;

class SessionHost {
public:
    virtual ~SessionHost() = default;
    // Runs session.run_secondary() on another thread, now.
    virtual void start_secondary(Session& session) = 0;
    // The session is over; `record` is its end. Nothing touches the session after this.
    virtual void finished(Session& session, SessionRecord&& record) = 0;
};

struct SessionStart {
    Fd client;        // connected, non-blocking, CLOEXEC
    ConfigPtr config; // the configuration current when it was accepted
    std::uint64_t id = 0;
    std::optional<Endpoint> peer = std::nullopt; // the client's address as accept4 gave it, when the caller has it
};

class Session {
public:
    Session(SessionHost& host, Reaper& reaper, long main_pid);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Before either thread runs (the pool calls this under its lock).
    void assign(SessionStart start);

    void run_primary();
    void run_secondary();

    // From any thread: ends the session with `status` (first ending wins) and
    // wakes its threads at once.
    void stop(Status status, const std::string& reason);

private:
    // The stages prepare() runs, in this order. A stage that may refuse the
    // connection returns false (admit: nothing) once it has ended the
    // session; a stop from outside shows as activity_.stopping().
    bool prepare();
    bool identify();
    void match_section();
    bool denied_at_once() const;
    Result<void> take_proxy_header();
    void name_client();
    void find_original_destination();
    std::optional<RedirectAction> admit(const Result<void>& proxy_header);
    bool access_allowed();
    void run_handler();
    bool connect(RedirectAction redirect);
    bool send_proxy_header();
    void open_capture();

    Result<Supervisor> start_program(const std::vector<std::string>& argv, HandlerRole role, int in_out);
    bool refuse(Status status, std::string reason);
    void on_relay_end(const RelayOutcome& out, bool to_server);
    void end(Status status, std::string reason, bool reset_client = false, bool reset_server = false);
    void enter(int which);
    void leave(int which);
    void finish();
    void close_capture();

    SessionHost& host_;
    Reaper& reaper_;
    long main_pid_;

    Fd client_;
    Fd server_;
    std::unique_ptr<CaptureWriter> capture_; // set before the relay starts, closed in finish()
    ConfigPtr config_;
    SessionRecord record_;
    Activity activity_;
    int failures_ = 0;
    ClientSlot client_slot_;  // counts this session against its client (max-per-client)
    bool peer_known_ = false; // record_.client came with the socket: no getpeername

    std::mutex mutex_; // guards everything below (never held while blocking)
    bool ended_ = false;
    Status status_ = Status::ok;
    std::string reason_;
    bool reset_client_ = false;
    bool reset_server_ = false;
    pthread_t threads_[2]{};
    bool inside_[2]{false, false};
    std::atomic<int> threads_left_{0};
};

} // namespace tcpproxy
