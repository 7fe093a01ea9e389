#include "spawn_protocol.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace tcpproxy::spawn_protocol {

namespace {

// Message tags: one byte, different for every message of every direction so
// that a message on the wrong socket is refused rather than misread.
enum Tag : std::uint8_t {
    tag_spawn = 1,
    tag_bind = 2,
    tag_reload = 3,
    tag_started = 10,
    tag_failed = 11,
    tag_exited = 12,
    tag_bound = 13,
    tag_config_text = 14,
    tag_signal = 20,
};

class Writer {
public:
    explicit Writer(std::uint8_t tag) { out_.push_back(tag); }
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void str(const std::string& s)
    {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void strings(const std::vector<std::string>& v)
    {
        u32(static_cast<std::uint32_t>(v.size()));
        for (const auto& s : v)
            str(s);
    }
    std::vector<std::uint8_t> done() { return std::move(out_); }

private:
    std::vector<std::uint8_t> out_;
};

class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && left_ == 0; }
    std::uint8_t u8()
    {
        if (!need(1))
            return 0;
        const auto v = *p_;
        advance(1);
        return v;
    }
    std::uint32_t u32()
    {
        if (!need(4))
            return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(p_[i]) << (8 * i);
        advance(4);
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::string str()
    {
        const auto n = u32();
        if (!need(n))
            return {};
        std::string s(reinterpret_cast<const char*>(p_), n);
        advance(n);
        // A NUL would cut an argument or variable short in execve: refuse it.
        if (s.find('\0') != std::string::npos)
            ok_ = false;
        return s;
    }
    std::vector<std::string> strings()
    {
        const auto n = u32();
        // Each string takes at least its 4-byte length: a count beyond what is
        // left is a lie, and must not size an allocation.
        if (n > max_strings || n > left_ / 4) {
            ok_ = false;
            return {};
        }
        std::vector<std::string> v;
        v.reserve(n);
        for (std::uint32_t i = 0; i < n && ok_; ++i)
            v.push_back(str());
        return v;
    }

private:
    bool need(std::size_t n)
    {
        if (!ok_ || n > left_)
            ok_ = false;
        return ok_;
    }
    void advance(std::size_t n)
    {
        p_ += n;
        left_ -= n;
    }
    const std::uint8_t* p_;
    std::size_t left_;
    bool ok_ = true;
};

template <typename T>
std::optional<T> finish(Reader& r, T value)
{
    if (!r.at_end())
        return std::nullopt;
    return value;
}

} // namespace

std::vector<std::uint8_t> encode(const Request& r)
{
    if (const auto* s = std::get_if<Spawn>(&r)) {
        Writer w(tag_spawn);
        w.strings(s->argv);
        w.strings(s->env);
        w.u32(s->uid);
        w.u32(s->gid);
        w.u8(s->stdio);
        w.u8(s->process_group ? 1 : 0);
        return w.done();
    }
    if (const auto* b = std::get_if<Bind>(&r)) {
        Writer w(tag_bind);
        w.u8(b->where.ip.is_v4() ? 4 : 6);
        for (auto byte : b->where.ip.bytes)
            w.u8(byte);
        w.u32(b->where.port);
        w.u8(b->v6only ? 1 : 0);
        w.i32(b->backlog);
        return w.done();
    }
    return Writer(tag_reload).done();
}

std::vector<std::uint8_t> encode(const Answer& a)
{
    if (const auto* s = std::get_if<Started>(&a)) {
        Writer w(tag_started);
        w.i32(s->pid);
        return w.done();
    }
    if (const auto* f = std::get_if<Failed>(&a)) {
        Writer w(tag_failed);
        w.i32(f->err);
        w.str(f->call);
        return w.done();
    }
    if (const auto* e = std::get_if<Exited>(&a)) {
        Writer w(tag_exited);
        w.i32(e->wait_status);
        return w.done();
    }
    if (std::holds_alternative<Bound>(a))
        return Writer(tag_bound).done();
    Writer w(tag_config_text);
    w.u32(std::get<ConfigText>(a).size);
    return w.done();
}

std::vector<std::uint8_t> encode(const Signal& s)
{
    Writer w(tag_signal);
    w.i32(s.signo);
    return w.done();
}

std::optional<Request> decode_request(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > max_message)
        return std::nullopt;
    Reader r(data, size);
    switch (r.u8()) {
    case tag_spawn: {
        Spawn s;
        s.argv = r.strings();
        s.env = r.strings();
        s.uid = r.u32();
        s.gid = r.u32();
        s.stdio = r.u8();
        const auto group = r.u8();
        if (s.argv.empty() || s.argv.front().empty() || s.stdio > 7 || group > 1)
            return std::nullopt;
        s.process_group = group == 1;
        return finish<Request>(r, s);
    }
    case tag_bind: {
        Bind b;
        const auto fam = r.u8();
        if (fam != 4 && fam != 6)
            return std::nullopt;
        b.where.ip.family = fam == 4 ? IpAddress::Family::v4 : IpAddress::Family::v6;
        for (auto& byte : b.where.ip.bytes)
            byte = r.u8();
        const auto port = r.u32();
        const auto v6only = r.u8();
        b.backlog = r.i32();
        if (port == 0 || port > 65535 || v6only > 1 || b.backlog < 0)
            return std::nullopt;
        b.where.port = static_cast<std::uint16_t>(port);
        b.v6only = v6only == 1;
        return finish<Request>(r, b);
    }
    case tag_reload:
        return finish<Request>(r, Reload{});
    default:
        return std::nullopt;
    }
}

std::optional<Answer> decode_answer(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > max_message)
        return std::nullopt;
    Reader r(data, size);
    switch (r.u8()) {
    case tag_started: {
        const Started s{r.i32()};
        if (s.pid <= 0)
            return std::nullopt;
        return finish<Answer>(r, s);
    }
    case tag_failed: {
        Failed f;
        f.err = r.i32();
        f.call = r.str();
        return finish<Answer>(r, f);
    }
    case tag_exited:
        return finish<Answer>(r, Exited{r.i32()});
    case tag_bound:
        return finish<Answer>(r, Bound{});
    case tag_config_text: {
        const ConfigText t{r.u32()};
        if (t.size > max_config_text)
            return std::nullopt;
        return finish<Answer>(r, t);
    }
    default:
        return std::nullopt;
    }
}

std::optional<Signal> decode_signal(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > max_message)
        return std::nullopt;
    Reader r(data, size);
    if (r.u8() != tag_signal)
        return std::nullopt;
    const Signal s{r.i32()};
    if (s.signo <= 0 || s.signo > 64)
        return std::nullopt;
    return finish(r, s);
}

std::size_t descriptors_of(const Request& r)
{
    if (const auto* s = std::get_if<Spawn>(&r))
        return 1 + static_cast<std::size_t>(std::popcount(static_cast<unsigned>(s->stdio)));
    return 1;
}

std::size_t descriptors_of(const Answer& a)
{
    return std::holds_alternative<Bound>(a) || std::holds_alternative<ConfigText>(a) ? 1 : 0;
}

} // namespace tcpproxy::spawn_protocol

// The transport.

namespace tcpproxy {

namespace {

constexpr std::size_t fd_limit = 8; // no message of ours carries more

} // namespace

std::pair<Fd, Fd> message_socket_pair()
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        throw sys_error("socketpair");
    return {Fd(sv[0]), Fd(sv[1])};
}

int send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds, bool nonblocking)
{
    if (fds.size() > fd_limit)
        return EINVAL;
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_limit)];
    if (!fds.empty()) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const int flags = MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0);
    for (;;) {
        if (::sendmsg(sock, &msg, flags) >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

Received receive_message(int sock, std::size_t max_bytes, std::size_t max_fds, bool nonblocking)
{
    Received r;
    r.bytes.resize(max_bytes);
    iovec iov{r.bytes.data(), r.bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_limit)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const int flags = MSG_CMSG_CLOEXEC | (nonblocking ? MSG_DONTWAIT : 0);
    ssize_t n;
    while ((n = ::recvmsg(sock, &msg, flags)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        r.kind = (errno == EAGAIN || errno == EWOULDBLOCK) ? Received::Kind::would_block : Received::Kind::broken;
        r.err = errno;
        r.bytes.clear();
        return r;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            r.fds.emplace_back(fd);
        }
    }
    if (n == 0 && r.fds.empty()) {
        // SEQPACKET has no empty messages of ours: zero bytes is the peer's close.
        r.kind = Received::Kind::closed;
        r.bytes.clear();
        return r;
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || r.fds.size() > max_fds) {
        r.kind = Received::Kind::broken;
        r.err = EMSGSIZE;
        r.bytes.clear();
        r.fds.clear();
        return r;
    }
    r.bytes.resize(static_cast<std::size_t>(n));
    return r;
}

} // namespace tcpproxy

// What the spawner agrees to.

namespace tcpproxy {

SpawnerPolicy spawner_policy(const Config& config, const Credentials& fallback)
{
    SpawnerPolicy p;
    p.identities = service_credentials(config, fallback);
    for (const auto& port : config.ports)
        p.ports.push_back(port.port);
    return p;
}

std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Spawn& request)
{
    const Credentials want{request.uid, request.gid};
    if (std::find(policy.identities.begin(), policy.identities.end(), want) == policy.identities.end())
        return "not allowed: uid " + std::to_string(request.uid) + " gid " + std::to_string(request.gid) +
               " is no service's user";
    return {};
}

std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Bind& request)
{
    if (std::find(policy.ports.begin(), policy.ports.end(), request.where.port) == policy.ports.end())
        return "not allowed: port " + std::to_string(request.where.port) + " is not configured";
    return {};
}

} // namespace tcpproxy

// The configuration text handed over on reload.

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
