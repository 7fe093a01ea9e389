#pragma once
// The validated, fully resolved configuration (reference §3): every service
// section carries every setting after global -> port -> interface inheritance
// and after command-line overrides. Built once, then only read; a reload builds
// a new one and swaps the shared_ptr for new connections.
#include "tcpproxy/acl/acl.hpp"
#include "tcpproxy/net/address.hpp"
#include "tcpproxy/core/status.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

// RedirectMode and SessionMode are the grammar's (grammar/values.hpp).

// Where a section listens: `*`/`any`, one address, or a NIC looked up per connection.
struct InterfaceSpec {
    enum class Kind : std::uint8_t { any, address, nic };
    Kind kind = Kind::any;
    IpAddress address; // Kind::address
    std::string name;  // Kind::nic: the NIC name
    std::string text;  // as configured ("*" when none), used for PROXY_BINDING
};

// One `server` entry: HOST is a name or an IP literal; no port = the local port.
struct Upstream {
    std::string host;
    std::optional<std::uint16_t> port;
    std::string text; // as written, for logs
};

// `user USER[.GROUP]` resolved to ids; unset parts keep the process's own.
struct Identity {
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::string text; // as written; empty = not configured
};

struct Service {
    InterfaceSpec interface;
    int line = 0; // of the `interface` line (or `port` line)

    std::vector<Upstream> servers; // exactly one of servers / exec is non-empty
    std::vector<std::string> exec; // program and arguments
    Acl acl;
    std::string acp;       // program path, empty = none
    unsigned timeout = 60; // 0 = no idle timeout
    RedirectMode redirect = RedirectMode::none;
    std::optional<IpAddress> srcip;
    std::optional<std::pair<IpAddress, IpAddress>> rotate; // first, last (same family)
    Identity user;
    std::string writefile;             // capture basename, empty = none
    std::uint64_t writefile_limit = 0; // bytes per capture file; 0 = no limit
    bool debug = false;                // set by `debug` (which also sets writefile)
    bool extended_info = false;
    std::string logname = "tcpproxy";
    std::string name;
    std::string var_prefix = "PROXY_";
    int proxy_protocol = 0; // 0 = off, 1 or 2
    bool accept_proxy = false;
    unsigned max_per_client = 0;          // sessions of one client (IPv6: its /64); 0 = unlimited
    std::optional<Acl> accept_proxy_from; // who may send a PROXY header; unset = any peer
    unsigned proxy_header_timeout = 5;    // seconds for the whole PROXY header

    unsigned connect_timeout() const { return timeout ? timeout : 60; }
};

struct PortConfig {
    std::uint16_t port = 0;
    int line = 0;
    std::vector<Service> services; // file order; first match wins
};

// `session-keep-limit COUNT [BYTES]`: the most kept session logfiles in the
// session directory (oldest removed first); 0 = no limit.
struct KeepLimit {
    std::uint64_t files = 1000;
    std::uint64_t bytes = std::uint64_t{100} << 20;
};

struct SessionHandling {
    SessionMode mode = SessionMode::none; // none = inactive
    std::string dir;
    StatusSet exit_codes = 0;
    std::vector<std::string> exit_handler; // program and arguments
    KeepLimit keep_limit;
    bool active() const { return mode != SessionMode::none && !dir.empty() && exit_codes != 0; }
};

struct Config {
    std::string file;               // path it was read from ("" for -b)
    std::optional<bool> standalone; // unset: decided by how we were started
    std::string pidfile;
    std::string statdir;
    SessionHandling session;
    unsigned max_sessions = 1024;
    std::vector<PortConfig> ports;   // file order, ports unique
    std::optional<Endpoint> metrics; // `metrics` / --metrics: the GET /metrics listener
    Acl metrics_acl;                 // `metrics-acl`; empty: loopback clients only

    // Process-wide switches that only the command line sets.
    bool debug = false;        // -d: stderr diagnostics, foreground
    bool resolve_names = true; // -n clears it
    bool empty_env = false;    // -e

    // Which reload of the privileged spawner this is (0: the one loaded at
    // start): programs are asked for under it (process/spawner.hpp).
    std::uint32_t generation = 0;
};

using ConfigPtr = std::shared_ptr<const Config>;

} // namespace tcpproxy
