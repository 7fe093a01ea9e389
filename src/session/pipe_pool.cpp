#include "pipe_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace tcpproxy {

PipePool& PipePool::instance()
{
    static PipePool pool;
    return pool;
}

std::optional<Pipe> PipePool::acquire()
{
    {
        std::lock_guard lock(mutex_);
        if (!free_.empty()) {
            Pipe p = std::move(free_.back());
            free_.pop_back();
            return p;
        }
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return std::nullopt;
    // A larger pipe moves more per splice pair; failure (pipe-max-size,
    // per-user pipe limits) leaves the default, which still works.
    ::fcntl(fds[1], F_SETPIPE_SZ, pipe_bytes);
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void PipePool::release(Pipe pipe)
{
    std::lock_guard lock(mutex_);
    if (free_.size() < capacity_)
        free_.push_back(std::move(pipe));
}

void PipePool::set_capacity(std::size_t n)
{
    std::lock_guard lock(mutex_);
    capacity_ = n;
    while (free_.size() > capacity_)
        free_.pop_back();
}

} // namespace tcpproxy
