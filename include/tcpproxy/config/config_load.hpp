#pragma once
// Text -> AST (grammar/) -> validated Config (src/config/). Every problem of
// the whole file is reported; the Config is only returned when there is no error.
#include "tcpproxy/config/config.hpp"
#include "tcpproxy/grammar/diagnostic.hpp"

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

} // namespace tcpproxy
