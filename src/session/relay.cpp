// How bytes move. The hot path is two splice() calls per chunk: socket ->
// pipe, pipe -> socket; no allocation, no lock and no log per chunk.
#include "relay.hpp"

#include "tcpproxy/core/fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace tcpproxy {

namespace {

using Kind = RelayOutcome::Kind;
using Wait = Activity::Wait;

constexpr int pipe_bytes = 1 << 18; // asked of F_SETPIPE_SZ; the kernel may give less

struct Pipe {
    Fd read;
    Fd write;
};

// Pipes for splice(2), shared by all sessions. A direction takes a pipe only
// while it has data in flight and gives it back as soon as its source has
// nothing more to read, so an idle session holds no pipe (only its two
// sockets): that is what lets thousands of idle sessions fit the descriptor
// limit. Taking and returning costs one uncontended lock per burst of data,
// never one per chunk.
class PipePool {
public:
    static PipePool& instance()
    {
        static PipePool pool;
        return pool;
    }

    // A clean (empty) pipe, or none when no descriptor is left for one.
    std::optional<Pipe> acquire()
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

    // Only empty pipes may come back; a pipe holding bytes is simply closed.
    void release(Pipe pipe)
    {
        std::lock_guard lock(mutex_);
        if (free_.size() < capacity)
            free_.push_back(std::move(pipe));
    }

private:
    static constexpr std::size_t capacity = 32; // idle pipes kept for reuse; the rest are closed
    std::mutex mutex_;
    std::vector<Pipe> free_;
};

constexpr std::size_t splice_chunk = static_cast<std::size_t>(pipe_bytes);
constexpr std::size_t copy_buffer_bytes = 64 * 1024;
// A splice that brought less than this has most likely emptied the socket (a
// request, a reply): go back to waiting rather than splice once more only to
// learn EAGAIN, one system call saved per message. Bulk transfers read far
// more per call and keep their pipe between calls.
constexpr std::size_t short_splice = 16 * 1024;

RelayOutcome from_wait(Wait w) { return {w == Wait::idle ? Kind::idle : Kind::stopped, 0}; }

bool again(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Writes `n` bytes to `to`, each piece with `write(offset, left)` (one system
// call: bytes written, or -1 and errno), waiting for room as needed.
template <typename Write>
std::optional<RelayOutcome> write_all(int to, std::size_t n, Activity& activity, std::uint64_t& bytes, Write write)
{
    std::size_t off = 0;
    while (off < n) {
        const ssize_t m = write(off, n - off);
        if (m > 0) {
            off += static_cast<std::size_t>(m);
            bytes += static_cast<std::uint64_t>(m);
            activity.touch();
            continue;
        }
        if (m < 0 && errno == EINTR)
            continue;
        if (m < 0 && again(errno)) {
            if (const auto w = activity.wait(to, POLLOUT); w != Wait::ready)
                return from_wait(w);
            continue;
        }
        return RelayOutcome{Kind::write_failed, m < 0 ? errno : EPIPE};
    }
    return std::nullopt;
}

// Moves `n` bytes out of the pipe into `to`.
std::optional<RelayOutcome> drain(int pipe_read, int to, std::size_t n, Activity& activity, std::uint64_t& bytes)
{
    return write_all(to, n, activity, bytes, [pipe_read, to](std::size_t, std::size_t left) {
        return ::splice(pipe_read, nullptr, to, nullptr, left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    });
}

// Plain read/write for when splice cannot be used (no pipe descriptor left,
// or a descriptor type splice does not support).
class Copier {
public:
    // One burst: reads what is there and writes it all. nullopt = read nothing
    // right now (EAGAIN), go back to waiting.
    std::optional<RelayOutcome> burst(int from, int to, Activity& activity, std::uint64_t& bytes, bool& done,
                                      CaptureWriter* capture, Direction dir)
    {
        if (!buffer_)
            buffer_ = std::make_unique<char[]>(copy_buffer_bytes); // only ever in fallback mode
        for (;;) {
            const ssize_t n = ::read(from, buffer_.get(), copy_buffer_bytes);
            if (n == 0) {
                done = true;
                return std::nullopt;
            }
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (again(errno))
                    return std::nullopt;
                return RelayOutcome{Kind::read_failed, errno};
            }
            activity.touch();
            char* const data = buffer_.get();
            // Recorded as read, before it is written on: the reply it causes
            // cannot reach the other direction's thread (and the capture)
            // first. Recording never waits for the disk: a bounded buffer, else a DROP record.
            if (capture)
                capture->record(dir, data, static_cast<std::size_t>(n));
            auto send = [&](std::size_t off, std::size_t left) { return ::send(to, data + off, left, MSG_NOSIGNAL); };
            if (auto out = write_all(to, static_cast<std::size_t>(n), activity, bytes, send))
                return out;
        }
    }

private:
    std::unique_ptr<char[]> buffer_;
};

RelayOutcome end_of_stream(int to)
{
    // Half-close: the other direction keeps flowing until it ends too.
    ::shutdown(to, SHUT_WR);
    return {Kind::eof, 0};
}

} // namespace

RelayOutcome relay(int from, int to, Activity& activity, std::uint64_t& bytes, CaptureWriter* capture, Direction dir)
{
    // The kernel's counters of both sockets are the wire activity the idle deadline checks.
    activity.watch(from, to);
    auto& pool = PipePool::instance();
    Copier copier;
    bool splice_works = capture == nullptr;
    // The client has most often spoken by the time the server is reached (it
    // sent its request right after connecting): read first, wait only if
    // nothing is there yet. One ppoll less per connection; costs one EAGAIN
    // when the server speaks first.
    bool read_first = dir == Direction::client_to_server;
    for (;;) {
        // Idle: hold no pipe while waiting for the source.
        if (!std::exchange(read_first, false))
            if (const auto w = activity.wait(from, POLLIN); w != Wait::ready)
                return from_wait(w);

        std::optional<Pipe> pipe;
        if (splice_works)
            pipe = pool.acquire();
        if (!pipe) {
            bool done = false;
            if (auto out = copier.burst(from, to, activity, bytes, done, capture, dir))
                return *out;
            if (done)
                return end_of_stream(to);
            continue;
        }

        // Busy: keep the pipe until the source has nothing more to give.
        for (;;) {
            const ssize_t n =
                ::splice(from, nullptr, pipe->write.get(), nullptr, splice_chunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                activity.touch();
                if (auto out = drain(pipe->read.get(), to, static_cast<std::size_t>(n), activity, bytes))
                    return *out; // the pipe may still hold bytes: it is closed, not returned
                if (static_cast<std::size_t>(n) < short_splice) {
                    pool.release(std::move(*pipe)); // drained: empty again
                    break;
                }
                continue;
            }
            if (n == 0) {
                pool.release(std::move(*pipe));
                return end_of_stream(to);
            }
            if (errno == EINTR)
                continue;
            if (again(errno)) {
                pool.release(std::move(*pipe));
                break;
            }
            if (errno == EINVAL) {
                // This descriptor cannot be spliced: copy instead from now on.
                pool.release(std::move(*pipe));
                splice_works = false;
                break;
            }
            return {Kind::read_failed, errno};
        }
    }
}

} // namespace tcpproxy
