#include "tcpproxy/core/error.hpp"

#include <cstring>

namespace tcpproxy {

std::string errno_text(std::string_view call, int err)
{
    std::string out(call);
    out += ": ";
    out += std::strerror(err);
    return out;
}

std::system_error sys_error(const std::string& call, int err)
{
    // std::system_error appends ": " and the category's message itself.
    return std::system_error(err, std::generic_category(), call);
}

} // namespace tcpproxy
