#pragma once
// The Prometheus text exposition format, version 0.0.4: what GET /metrics
// answers (pure, unit tested).
#include "tcpproxy/metrics/counters.hpp"

#include <string>
#include <string_view>

namespace tcpproxy::metrics {

inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// A label value between double quotes: backslash, double quote and newline escaped.
std::string escape_label(std::string_view value);
// A HELP text: backslash and newline escaped.
std::string escape_help(std::string_view text);

// Every metric of `s`, each family with its # HELP and # TYPE lines.
std::string render(const Snapshot& s, std::string_view version);

} // namespace tcpproxy::metrics
