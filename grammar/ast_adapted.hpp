#pragma once
// Fusion adaptation of the AST, so that X3 sequences fill the nodes' members.
#include "tcpproxy/grammar/ast.hpp"

#include <boost/fusion/include/adapt_struct.hpp>

BOOST_FUSION_ADAPT_STRUCT(tcpproxy::ast::Argument, quoted, text)
BOOST_FUSION_ADAPT_STRUCT(tcpproxy::ast::Directive, keyword, arguments)
