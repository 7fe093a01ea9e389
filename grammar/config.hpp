#pragma once
// The one place that fixes the types the line grammar is instantiated for:
// the iterator (the config text is parsed in memory) and the context (no
// skipper: blanks are significant; our error handler under x3's tag). The
// directives' rules read words, not characters (directives.cpp).
#include "error_handler.hpp"

#include <boost/spirit/home/x3.hpp>

#include <functional>

namespace tcpproxy::grammar {

using context_type = x3::context<x3::error_handler_tag, std::reference_wrapper<ErrorHandler>, x3::unused_type>;

} // namespace tcpproxy::grammar
