#pragma once
// Text -> AST (grammar/) -> validated Config (src/config/). Every problem of
// the whole file is reported; the Config is only returned when there is no error.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"
#include "tcpproxy/core/error.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace tcpproxy {

struct LoadResult {
    std::shared_ptr<Config> config; // null when diagnostics has errors
    Diagnostics diagnostics;
};

// Parses and validates config text; `file` is used in diagnostics.
LoadResult parse_config(std::string_view text, const std::string& file);
// Reads the file (an unreadable file is one error diagnostic) and parses it.
LoadResult load_config_file(const std::string& file);

// Parses text read by read_config_text, or makes its failure the one error
// diagnostic (`file` names it either way).
LoadResult load_config_text(const Result<std::string>& text, const std::string& file);

// The one place the configuration file is read: by load_config_file, and by
// the privileged spawner on reload (it hands the bytes to the daemon, which
// may not read the file itself). A config larger than max_config_bytes is not
// a config (e.g. -f /dev/zero): refused rather than read forever. With
// `may_wait` false, a FIFO without data is a read error, not a hang (the
// spawner serves every program of the daemon). The error completes "cannot
// read the configuration: ": "open: No such file or directory". Run as root,
// a file or a directory above it that another user can write is refused
// ("refused, started as root: /x/y.conf is owned by uid 1000, not root").
inline constexpr std::size_t max_config_bytes = 16u << 20;
Result<std::string> read_config_text(const std::string& file, bool may_wait = true);

} // namespace tcpproxy
