#pragma once
// Traffic capture (reference §4.8): `writefile BASE` / `-w BASE` appends each
// session's traffic to BASE.PID.SESSIONID.log (mode 0600, never through a
// symlink). The file is a sequence of records; each starts with one header
// line of ASCII fields separated by one blank:
//
//   C2S SECONDS.MICROSECONDS LENGTH\n  then exactly LENGTH raw bytes, then \n
//   S2C SECONDS.MICROSECONDS LENGTH\n  the same, server -> client
//   DROP C2S|S2C SECONDS.MICROSECONDS LENGTH\n   no bytes follow: LENGTH bytes
//        of that direction were forwarded but not captured (buffer full, see
//        CaptureWriter); they belong where the record stands in that direction
//
// SECONDS is the wall-clock time since 1970, MICROSECONDS always 6 digits,
// LENGTH decimal. C2S is client -> server. Concatenating the bytes of a
// direction's data records in file order gives that direction's stream
// exactly (minus what DROP records account for). The bytes are raw, so a
// record is found by its header's LENGTH, never by searching for newlines.
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <istream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tcpproxy {

enum class Direction : std::uint8_t { client_to_server, server_to_client };

constexpr std::string_view direction_tag(Direction d) { return d == Direction::client_to_server ? "C2S" : "S2C"; }

struct CaptureTime {
    std::int64_t seconds = 0;
    std::uint32_t micros = 0; // 0..999999
    friend bool operator==(const CaptureTime&, const CaptureTime&) = default;
};
CaptureTime capture_now(); // CLOCK_REALTIME

// The longest record the writer produces (longer chunks are split) and the
// longest one the reader accepts (anything longer is taken as corruption).
inline constexpr std::size_t capture_max_record_bytes = 64 * 1024;
inline constexpr std::uint64_t capture_max_readable_record = 64ull * 1024 * 1024;

// "C2S 1700000000.000123 42\n" / "DROP S2C 1700000000.000123 42\n", built in
// place: the writer formats one per chunk and must not allocate for it.
struct CaptureHeader {
    char text[80];
    std::size_t size = 0;
    std::string_view view() const { return {text, size}; }
};
CaptureHeader capture_data_header(Direction d, CaptureTime t, std::uint64_t length);
CaptureHeader capture_drop_header(Direction d, CaptureTime t, std::uint64_t length);

struct CaptureRecord {
    bool drop = false; // a DROP record: `bytes` is empty
    Direction direction = Direction::client_to_server;
    CaptureTime time;
    std::uint64_t length = 0; // bytes.size() for data records
    std::string bytes;
    std::uint64_t offset = 0; // of the header line in the file
};

// Reads records one at a time from a stream (captures can be large).
// next() returns a record, or nothing at the end of the input or at the first
// malformed or truncated record; then error() says what and error_offset()
// at which byte of the file.
class CaptureReader {
public:
    explicit CaptureReader(std::istream& in) : in_(in) {}
    std::optional<CaptureRecord> next();
    const std::string& error() const { return error_; }
    std::uint64_t error_offset() const { return error_offset_; }

private:
    std::optional<CaptureRecord> fail(std::uint64_t offset, std::string what);

    std::istream& in_;
    std::uint64_t offset_ = 0;
    std::string error_;
    std::uint64_t error_offset_ = 0;
};

// `hexdump -C` style lines for `bytes`, offsets counted from `start`:
// "0000002a  43 32 53 2d 61 62 63 0a                           |C2S-abc.|\n".
std::string hex_dump(std::string_view bytes, std::uint64_t start);

std::string capture_file_path(const std::string& base, pid_t pid, std::uint64_t session_id);

// Writes one session's capture without ever making a copy thread wait for the
// disk. record() copies the bytes into a buffer under a mutex (held only for
// the copy) and returns; a writer thread owned by this object moves the buffer
// to the file with write(2). The buffer holds at most `buffer_limit` bytes
// (default 1 MiB) not yet handed to write(2), plus the block being written.
// When a record does not fit, its bytes are not captured: they are counted
// and a DROP record takes their place as soon as there is room again, so the
// decoder says how much of which direction is missing and where. A failed
// write ends the capture (error() says why; later bytes count as dropped).
// Records of one direction keep their order; the two copy threads may call
// record() at the same time.
class CaptureWriter {
public:
    static constexpr std::size_t default_buffer_limit = 1024 * 1024;

    // Opens (creates or appends to) `path` with O_APPEND|O_NOFOLLOW, mode 0600
    // whatever the umask; refuses anything but a regular file with one link.
    // Throws std::runtime_error (std::system_error for failed calls).
    explicit CaptureWriter(const std::string& path, std::size_t buffer_limit = default_buffer_limit);
    // Takes ownership of an open descriptor (a pipe in tests).
    CaptureWriter(int fd, std::string name, std::size_t buffer_limit);
    ~CaptureWriter();
    CaptureWriter(const CaptureWriter&) = delete;
    CaptureWriter& operator=(const CaptureWriter&) = delete;

    // writefile-limit: once the file would grow beyond `bytes` (0: no limit)
    // further records are dropped, and the DROP records (written at the
    // close, beyond the limit) say how much. Before the first record().
    void limit_file(std::uint64_t bytes);

    void record(Direction d, const char* data, std::size_t n) noexcept;
    // Writes what is buffered, waits for the writer thread, closes the file.
    // Idempotent; the destructor calls it. Blocks as long as the disk does.
    void close() noexcept;

    std::uint64_t dropped_bytes() const;
    std::string error() const; // "write(PATH): TEXT", empty if none
    const std::string& name() const { return name_; }

private:
    struct PendingDrop {
        std::uint64_t bytes = 0;
        CaptureTime since;
    };
    void start();
    void record_piece_locked(Direction d, CaptureTime t, const char* data, std::size_t n);
    void flush_drop_locked(Direction d);
    void run();

    int fd_ = -1;
    std::string name_;
    std::size_t limit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::string queued_; // appended by record(), swapped out by run()
    PendingDrop pending_[2];
    std::uint64_t dropped_ = 0;
    std::uint64_t file_limit_ = 0; // 0: none
    std::uint64_t file_bytes_ = 0; // queued for the file so far, in all
    std::string error_;
    bool closing_ = false;
    bool failed_ = false;
    std::thread writer_;
};

} // namespace tcpproxy
