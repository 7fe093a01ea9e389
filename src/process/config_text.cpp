#include "tcpproxy/process/config_text.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace tcpproxy {

namespace {

constexpr int fixed_seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;

} // namespace

Fd sealed_text(std::string_view text)
{
    Fd fd(::memfd_create("tcpproxy-config", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd)
        throw sys_error("memfd_create");
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw sys_error("write(memfd)");
        done += static_cast<std::size_t>(n);
    }
    if (::fcntl(fd.get(), F_ADD_SEALS, fixed_seals | F_SEAL_SEAL) < 0)
        throw sys_error("fcntl(F_ADD_SEALS)");
    return fd;
}

std::string read_sealed_text(int fd, std::size_t size)
{
    const int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        throw sys_error("fcntl(F_GET_SEALS)");
    if ((seals & fixed_seals) != fixed_seals)
        throw sys_error("configuration text not sealed", EPERM);
    struct stat st {};
    if (::fstat(fd, &st) < 0)
        throw sys_error("fstat(memfd)");
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) != size)
        throw sys_error("configuration text of the wrong size", EPROTO);
    std::string text(size, '\0');
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::pread(fd, text.data() + done, size - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw sys_error("pread(memfd)");
        if (n == 0)
            throw sys_error("pread(memfd)", EPROTO);
        done += static_cast<std::size_t>(n);
    }
    return text;
}

} // namespace tcpproxy
