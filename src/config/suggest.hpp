#pragma once
// "Did you mean ...?" for unknown keywords.
#include <span>
#include <string>
#include <string_view>

namespace tcpproxy::config {

// Levenshtein distance (insert, delete, substitute: cost 1 each).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` (the first of equals); "" when none.
std::string nearest(std::string_view word, std::span<const std::string_view> candidates);

} // namespace tcpproxy::config
