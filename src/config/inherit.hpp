#pragma once
// Pass 2 of validation: global -> port -> interface inheritance (reference
// §3.2/§3.3). Every setting comes from the innermost level that sets it;
// server/exec and srcip/rotate are pairs where the innermost level that sets
// either member decides both (an interface `exec` replaces a port `server`).
#include "layers.hpp"
#include "reporter.hpp"

#include <span>

namespace tcpproxy::config {

struct ResolvedService {
    Service service;
    bool has_handler = false; // some level set `server` or `exec`
    bool incomplete = false;  // some level had a directive that could not be read
};

// `levels` from outermost (global defaults) to innermost (the section).
ResolvedService resolve_service(std::span<const ServiceLayer* const> levels, InterfaceSpec interface, int line);

// Reports a level that sets both `server` and `exec`.
void check_exclusive(const ServiceLayer& layer, Reporter& report);

} // namespace tcpproxy::config
