#include "argument_values.hpp"

#include <charconv>

namespace tcpproxy::config {

std::optional<bool> yes_no(Reporter& report, const ast::Argument& arg) {
    if (arg.text == "yes")
        return true;
    if (arg.text == "no")
        return false;
    report.error(report.text_of(arg), "expected 'yes' or 'no', not '" + arg.text + "'");
    return std::nullopt;
}

std::optional<unsigned> number_in(Reporter& report, const ast::Argument& arg, unsigned low,
                                  unsigned high, std::string_view what) {
    const std::string range = std::to_string(low) + "-" + std::to_string(high);
    unsigned long long value = 0;
    const char* begin = arg.text.data();
    const char* end = begin + arg.text.size();
    const bool digits = !arg.text.empty() && arg.text.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) {
        report.error(report.text_of(arg), "'" + arg.text + "' is not a number (" + std::string(what) + ": " + range + ")");
        return std::nullopt;
    }
    const auto [p, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc{} || p != end || value < low || value > high) {
        report.error(report.text_of(arg), std::string(what) + " " + arg.text + " is out of range " + range);
        return std::nullopt;
    }
    return static_cast<unsigned>(value);
}

std::optional<IpAddress> ip_address(Reporter& report, const ast::Argument& arg) {
    if (auto a = IpAddress::parse(arg.text))
        return a;
    report.error(report.text_of(arg), "'" + arg.text + "' is not a valid IPv4 or IPv6 address");
    return std::nullopt;
}

std::optional<std::string> non_empty(Reporter& report, const ast::Argument& arg, std::string_view what) {
    if (!arg.text.empty())
        return arg.text;
    report.error(report.begin_of(arg), "empty " + std::string(what));
    return std::nullopt;
}

std::optional<std::string> program(Reporter& report, const ast::Argument& arg) {
    if (!arg.text.empty() && arg.text.front() == '/')
        return arg.text;
    report.error(report.begin_of(arg), arg.text.empty() ? std::string("empty program path")
                                                        : "program '" + arg.text + "' is not an absolute path");
    return std::nullopt;
}

std::vector<ListItem> list_items(Reporter& report, const std::vector<ast::Argument>& args,
                                 std::string_view what) {
    const std::string name(what);
    std::vector<ListItem> items;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        const std::size_t base = report.text_of(arg);
        const bool ends_with_comma = arg.text.ends_with(',');
        if (i > 0 && !args[i - 1].text.ends_with(','))
            report.error(base, name + " items are separated by commas: ',' missing before '" + arg.text + "'");
        std::size_t start = 0;
        for (;;) {
            const auto comma = arg.text.find(',', start);
            const auto stop = comma == std::string::npos ? arg.text.size() : comma;
            auto first = start;
            auto last = stop;
            // Blanks around items happen inside a quoted list: "a, b".
            while (first < last && (arg.text[first] == ' ' || arg.text[first] == '\t'))
                ++first;
            while (last > first && (arg.text[last - 1] == ' ' || arg.text[last - 1] == '\t'))
                --last;
            if (first < last) {
                items.push_back({arg.text.substr(first, last - first), base + first});
            } else if (comma != std::string::npos || !ends_with_comma) {
                // (an empty piece after a final comma is the list going on in the next argument)
                report.error(base + first, "empty " + name + " item");
            }
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
        if (ends_with_comma && i + 1 == args.size())
            report.error(base + arg.text.size() - 1, "the " + name + " list ends with ','");
    }
    return items;
}

std::vector<std::string> words(const std::vector<ast::Argument>& args) {
    std::vector<std::string> out;
    out.reserve(args.size());
    for (const auto& arg : args)
        out.push_back(arg.text);
    return out;
}

} // namespace tcpproxy::config
