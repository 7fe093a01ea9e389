#pragma once
// The syntax tree of a tcpproxy.conf file (reference §3.1): the global
// section, then port sections, each with its port-level directives and its
// interface sections. A directive is its keyword and arguments as written
// and, for a known keyword with the right number of arguments, the typed
// value its rule read from them (grammar/directives.cpp). What needs context
// (is an unknown keyword near a known one, may the directive stand at its
// level, does it repeat or contradict another, what the system says of a
// user or port name) is the validator's business, so a file that is
// lexically fine always yields a tree, however wrong its content.
//
// Every node is x3::position_tagged: its ids hold its source range as byte
// offsets, read through grammar::begin_of (parse.hpp). Only this small support header
// of Spirit is visible to the rest of the program.
#include "tcpproxy/grammar/values.hpp"

#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tcpproxy::grammar {
struct DirectiveInfo; // tcpproxy/grammar/directives.hpp
} // namespace tcpproxy::grammar

namespace tcpproxy::ast {

namespace x3 = boost::spirit::x3;

struct Argument : x3::position_tagged {
    bool quoted = false; // written in double quotes (its range includes them)
    std::string text;    // without the quotes
};

// The typed values of the directives' arguments, one family per form. An
// empty optional: the argument was wrong, and the grammar reported it at its
// column (the directive was given all the same: validation stores a default,
// so that its absence is not reported as a second problem).
struct Words { // exec, exit-handler (the program checked), server (checked by validation: /etc/services)
    std::vector<std::string> items;
};
struct AddressRange { // rotate: of one family, in order (else reported)
    std::optional<IpAddress> first, last;
};
struct ExitCodes { // exit-code NAME[,NAME...]
    StatusSet codes = 0;
};
struct KeepLimit { // session-keep-limit COUNT [BYTES]: each 0 (no limit) or a number; BYTES may be left out
    std::optional<std::uint64_t> files, bytes;
    bool bytes_given = false;
};
struct AclList { // acl, metrics-acl, accept-proxy-from: [+|-]ADDR[/MASK][, ...]
    Acl items;
};

using Value = std::variant<std::monostate,               // not read: unknown keyword or wrong argument count
                           std::string,                  // one word: paths, names, user, port, interface, metrics
                           std::optional<std::string>,   // acp PROGRAM
                           std::optional<bool>,          // yes|no
                           std::optional<unsigned>,      // seconds, counts
                           std::optional<std::uint64_t>, // bytes
                           std::optional<int>,           // proxy-protocol v1|v2
                           std::optional<RedirectMode>, std::optional<SessionMode>, std::optional<IpAddress>, Words,
                           AddressRange, ExitCodes, AclList, KeepLimit>;

struct Directive : x3::position_tagged {
    std::string keyword; // as written: validation decides whether it is known
    std::vector<Argument> arguments;
    Value value;                                  // monostate when not read (the reason is reported)
    const grammar::DirectiveInfo* info = nullptr; // the keyword's level and usage; null when unknown
};

using Directives = std::vector<Directive>;

// The directives of one level of the file, in file order.
struct Section {
    Directives directives;
    bool broken = false; // a line of this level did not parse (reported): what it set is unknown
};

// `interface IFACE` and the directives under it, up to the next
// `interface` or `port`. Tagged with the range of its `interface` line.
struct InterfaceSection : x3::position_tagged {
    Directive line;
    Section body;
};

// `port PORT`, its port-level directives (before its first `interface`) and
// its interface sections. Tagged with the range of its `port` line.
struct PortSection : x3::position_tagged {
    Directive line;
    Section body;
    std::vector<InterfaceSection> interfaces;
};

// A `port` line opens a port section whatever its arguments, so that the
// lines under a bad one are not blamed on the level above; so does an
// `interface` line inside a port. An `interface` line before the first
// `port` opens an orphan section (reported by validation, its directives
// checked and dropped), unless it lacks its one argument: then it stays a
// directive of its level, for validation to report as such.
struct File {
    Section global;
    std::vector<InterfaceSection> orphans; // interface sections before the first `port`
    std::vector<PortSection> ports;
};

} // namespace tcpproxy::ast
