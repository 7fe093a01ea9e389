// The one translation unit that instantiates the config grammar: Spirit's
// compile time is paid here only.
#include "config.hpp"
#include "config_grammar_def.hpp"

namespace tcpproxy::grammar::parser {
BOOST_SPIRIT_INSTANTIATE(line_type, iterator_type, context_type)
} // namespace tcpproxy::grammar::parser
