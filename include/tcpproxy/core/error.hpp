#pragma once
// The one error convention of tcpproxy.
//
// - A failed system call or library call is a fault of the moment: it throws
//   std::system_error made by sys_error(), whose what() is "CALL: errno text"
//   (CALL names the call and, where it helps, its object: "open(/run/x)").
//   Code that must not throw (a session thread's hot path, a signal-safe
//   child) keeps the same words with errno_text().
// - An outcome the caller is expected to handle - input that does not parse,
//   a request that is refused, a file that is not there - is a value:
//   Result<T>, that is std::expected<T, Error>, with a message that completes
//   the caller's sentence (no "tcpproxy:" prefix, no trailing period).
#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tcpproxy {

// "CALL: errno text": the one place strerror is formatted.
std::string errno_text(std::string_view call, int err = errno);

// The exception of a failed call; what() is errno_text(call, err).
std::system_error sys_error(const std::string& call, int err = errno);

// Why an expected outcome did not happen, in words for a person.
struct Error {
    std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) { return std::unexpected(Error{std::move(message)}); }

} // namespace tcpproxy
