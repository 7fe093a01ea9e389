#include "tcpproxy/core/status.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace tcpproxy {

std::optional<Status> parse_status(std::string_view name)
{
    for (std::size_t i = 0; i < status_names.size(); ++i)
        if (boost::algorithm::iequals(name, status_names[i]))
            return static_cast<Status>(i);
    return std::nullopt;
}

} // namespace tcpproxy
