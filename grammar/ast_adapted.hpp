#pragma once
// Fusion adaptation of the AST, so that X3 sequences fill the nodes' members,
// and the nodes only the grammar sees.
#include "tcpproxy/grammar/ast.hpp"

#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/optional.hpp>

#include <string>

namespace tcpproxy::ast {

// One ACL item as written, [+|-]ADDR[/MASK]: split by the grammar, its
// address and mask checked by grammar::acl_item (values.hpp). (X3 of Boost
// 1.74 fills boost::optional, not std::optional.)
struct AclText {
    boost::optional<bool> allow; // '+' / '-'; none = allow
    std::string address;
    boost::optional<std::string> mask; // after '/', possibly empty
};

} // namespace tcpproxy::ast

BOOST_FUSION_ADAPT_STRUCT(tcpproxy::ast::Argument, quoted, text)
BOOST_FUSION_ADAPT_STRUCT(tcpproxy::ast::Directive, keyword, arguments)
BOOST_FUSION_ADAPT_STRUCT(tcpproxy::ast::AclText, allow, address, mask)
