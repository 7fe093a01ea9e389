#pragma once
// What each level of the file (global, port, interface section) sets, before
// inheritance resolves it into Services. A slot is empty when the level does
// not set it; a set slot remembers the directive that set it, so later
// checks (duplicates, conflicts, partial sets) can point at it.
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tcpproxy::config {

template <typename T>
struct Setting {
    T value{};
    const ast::Directive* from = nullptr;
    bool valid = true; // false: given, but its argument was wrong (already reported)
};

template <typename T>
using Slot = std::optional<Setting<T>>;

struct Capture {
    std::string basename;
    bool debug = false; // set by `debug`, which is `writefile` plus debug logging
};

// Service directives: may appear at every level; the innermost setting wins.
struct ServiceLayer {
    // A directive of this level was unknown or had the wrong number of
    // arguments: what it would have set is unknown, so conclusions like
    // "no server or exec" are not drawn for this level.
    bool incomplete = false;

    Slot<std::vector<Upstream>> servers;
    Slot<std::vector<std::string>> exec;
    Slot<Acl> acl; // the acl lines of one level add up
    Slot<std::string> acp;
    Slot<unsigned> timeout;
    Slot<RedirectMode> redirect;
    Slot<IpAddress> srcip;
    Slot<std::pair<IpAddress, IpAddress>> rotate;
    Slot<Identity> user;
    Slot<Capture> capture;
    Slot<bool> extended_info;
    Slot<std::string> logname;
    Slot<std::string> name;
    Slot<std::string> var_prefix;
    Slot<int> proxy_protocol;
    Slot<bool> accept_proxy;
    Slot<unsigned> max_per_client;
    Slot<Acl> accept_proxy_from;
    Slot<unsigned> proxy_header_timeout;
    Slot<std::uint64_t> writefile_limit;
};

// Global-only directives.
struct GlobalLayer {
    Slot<bool> standalone;
    Slot<std::string> pidfile;
    Slot<std::string> statdir;
    Slot<std::string> session_dir;
    Slot<SessionMode> session_mode;
    Slot<StatusSet> exit_codes;
    Slot<std::vector<std::string>> exit_handler;
    Slot<unsigned> max_sessions;
    Slot<KeepLimit> session_keep_limit;
    Slot<Endpoint> metrics;
    Slot<Acl> metrics_acl; // repeated lines add up, as acl's do
};

struct SectionBlock {
    const ast::Directive* at = nullptr;     // the `interface` line, or the `port` line when implicit
    std::optional<InterfaceSpec> interface; // empty when the value was invalid (already reported)
    ServiceLayer layer;
};

struct PortBlock {
    const ast::Directive* at = nullptr;
    std::optional<std::uint16_t> port; // empty when invalid (already reported)
    bool duplicate = false;
    ServiceLayer layer;
    std::vector<SectionBlock> sections;
};

// The levels of the file above its ports (the port blocks are built and
// resolved one at a time: tree.hpp).
struct ConfigTree {
    GlobalLayer global;
    ServiceLayer defaults; // service directives before the first port
};

} // namespace tcpproxy::config
