#pragma once
// Argument forms shared by several directives (yes/no, numbers in a range,
// keyword choices, addresses, comma lists). Each checks one argument and
// reports a positioned error itself; an empty result means "reported".
#include "reporter.hpp"
#include "tcpproxy/grammar/ast.hpp"
#include "tcpproxy/net/address.hpp"

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tcpproxy::config {

std::optional<bool> yes_no(Reporter& report, const ast::Argument& arg);

// A decimal number within [low, high]; `what` names it in messages.
std::optional<unsigned> number_in(Reporter& report, const ast::Argument& arg, unsigned low,
                                  unsigned high, std::string_view what);

// One of a few words; the error lists them.
template <typename T>
std::optional<T> one_of(Reporter& report, const ast::Argument& arg, std::string_view what,
                        std::initializer_list<std::pair<std::string_view, T>> choices) {
    std::string known;
    for (const auto& [word, value] : choices) {
        if (arg.text == word)
            return value;
        known += known.empty() ? "" : ", ";
        known += word;
    }
    report.error(report.text_of(arg), "unknown " + std::string(what) + " '" + arg.text + "' (expected " + known + ")");
    return std::nullopt;
}

std::optional<IpAddress> ip_address(Reporter& report, const ast::Argument& arg);

// A path, program or name that must not be empty.
std::optional<std::string> non_empty(Reporter& report, const ast::Argument& arg, std::string_view what);

// A program the daemon runs (exec, acp, exit-handler): an absolute path,
// since the daemon's working directory is not the administrator's.
std::optional<std::string> program(Reporter& report, const ast::Argument& arg);

// The items of a comma separated list that may span several arguments
// ("a, b,c" is three items: blanks are allowed after commas only).
struct ListItem {
    std::string text;
    std::size_t offset; // of the item's first byte in the config text
};
std::vector<ListItem> list_items(Reporter& report, const std::vector<ast::Argument>& args,
                                 std::string_view what);

// The program and arguments of exec/exit-handler.
std::vector<std::string> words(const std::vector<ast::Argument>& args);

} // namespace tcpproxy::config
