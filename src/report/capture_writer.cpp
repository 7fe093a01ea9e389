// CaptureWriter: the copy threads hand bytes over, a writer thread owns the disk.
#include "tcpproxy/report/capture.hpp"
#include "tcpproxy/core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

namespace tcpproxy {
namespace {

constexpr mode_t capture_mode = 0600;
// A DROP header is at most this long: the room a pending DROP record needs
// in front of the next data record of its direction.
constexpr std::size_t drop_header_room = sizeof(CaptureHeader::text);

int open_capture_file(const std::string& path)
{
    // O_NONBLOCK: a FIFO planted at the path must not block the open; it is
    // then refused by the regular-file check below.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                          capture_mode);
    if (fd < 0)
        throw sys_error("open(" + path + ")");
    struct stat st {};
    const char* refused = nullptr;
    int err = 0;
    if (::fstat(fd, &st) != 0)
        err = errno, refused = "fstat";
    else if (!S_ISREG(st.st_mode))
        refused = "not a regular file";
    else if (st.st_nlink != 1)
        refused = "has other hard links";
    else if (::fchmod(fd, capture_mode) != 0)
        err = errno, refused = "fchmod";
    else if (::fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) != 0)
        err = errno, refused = "fcntl";
    if (refused) {
        ::close(fd);
        if (err)
            throw sys_error(std::string(refused) + "(" + path + ")", err);
        throw std::runtime_error("capture file " + path + ": refused: " + refused);
    }
    return fd;
}

std::size_t index(Direction d) { return d == Direction::client_to_server ? 0 : 1; }

} // namespace

CaptureWriter::CaptureWriter(const std::string& path, std::size_t buffer_limit)
    : fd_(open_capture_file(path)), name_(path), limit_(buffer_limit)
{
    start();
}

CaptureWriter::CaptureWriter(int fd, std::string name, std::size_t buffer_limit)
    : fd_(fd), name_(std::move(name)), limit_(buffer_limit)
{
    start();
}

void CaptureWriter::start()
{
    try {
        writer_ = std::thread([this] { run(); });
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

CaptureWriter::~CaptureWriter() { close(); }

void CaptureWriter::record(Direction d, const char* data, std::size_t n) noexcept
{
    if (n == 0)
        return;
    std::lock_guard lock(mutex_);
    // Stamped under the lock: records are queued in the order of their times.
    const CaptureTime t = capture_now();
    try {
        while (n > 0) {
            const std::size_t piece = std::min(n, capture_max_record_bytes);
            record_piece_locked(d, t, data, piece);
            data += piece;
            n -= piece;
        }
    } catch (...) {
        // Out of memory while queueing: the bytes are lost, say so like any drop.
        auto& p = pending_[index(d)];
        if (p.bytes == 0)
            p.since = t;
        p.bytes += n;
        dropped_ += n;
    }
    wake_.notify_one();
}

void CaptureWriter::record_piece_locked(Direction d, CaptureTime t, const char* data, std::size_t n)
{
    auto& pending = pending_[index(d)];
    const CaptureHeader header = capture_data_header(d, t, n);
    const std::size_t need = header.size + n + 1 + (pending.bytes ? drop_header_room : 0);
    const bool over_file_limit = file_limit_ && file_bytes_ + need > file_limit_;
    if (closing_ || failed_ || over_file_limit || queued_.size() + need > limit_) {
        if (pending.bytes == 0)
            pending.since = t;
        pending.bytes += n;
        dropped_ += n;
        return;
    }
    // Reserving first means a failed allocation leaves no half record behind.
    queued_.reserve(queued_.size() + need);
    const std::size_t before = queued_.size();
    flush_drop_locked(d);
    queued_ += header.view();
    queued_.append(data, n);
    queued_ += '\n';
    file_bytes_ += queued_.size() - before;
}

void CaptureWriter::limit_file(std::uint64_t bytes)
{
    std::lock_guard lock(mutex_);
    file_limit_ = bytes;
}

void CaptureWriter::flush_drop_locked(Direction d)
{
    auto& pending = pending_[index(d)];
    if (pending.bytes == 0 || failed_)
        return;
    queued_ += capture_drop_header(d, pending.since, pending.bytes).view();
    pending.bytes = 0;
}

void CaptureWriter::run()
{
    std::string writing;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return !queued_.empty() || closing_; });
        if (queued_.empty())
            return; // closing and everything written
        std::swap(writing, queued_);
        const bool failed = failed_;
        lock.unlock();

        std::string error;
        std::size_t done = 0;
        while (!failed && done < writing.size()) {
            const ssize_t w = ::write(fd_, writing.data() + done, writing.size() - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                error = errno_text("write(" + name_ + ")");
                break;
            }
            done += static_cast<std::size_t>(w);
        }
        writing.clear();

        lock.lock();
        if (!error.empty() && !failed_) {
            failed_ = true;
            error_ = std::move(error);
        }
    }
}

void CaptureWriter::close() noexcept
{
    {
        std::lock_guard lock(mutex_);
        if (closing_)
            return;
        try {
            flush_drop_locked(Direction::client_to_server);
            flush_drop_locked(Direction::server_to_client);
        } catch (...) {
            // Out of memory for a DROP header: dropped_bytes() still counts them.
        }
        closing_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable())
        writer_.join();
    if (::close(fd_) != 0) {
        std::lock_guard lock(mutex_);
        if (error_.empty())
            error_ = errno_text("close(" + name_ + ")");
    }
    fd_ = -1;
}

std::uint64_t CaptureWriter::dropped_bytes() const
{
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::string CaptureWriter::error() const
{
    std::lock_guard lock(mutex_);
    return error_;
}

} // namespace tcpproxy
