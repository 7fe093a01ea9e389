#include "spawn_protocol.hpp"

#include "tcpproxy/core/text.hpp"

#include <fcntl.h>
#include <poll.h>
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
        w.u32(s->generation);
        w.u32(s->service);
        w.u8(static_cast<std::uint8_t>(s->role));
        std::vector<std::string> flat;
        for (const auto& [name, value] : s->variables) {
            flat.push_back(name);
            flat.push_back(value);
        }
        w.strings(flat);
        w.u8(s->stdio);
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
    w.u32(std::get<ConfigText>(a).generation);
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
        s.generation = r.u32();
        s.service = r.u32();
        const auto role = r.u8();
        const auto flat = r.strings();
        s.stdio = r.u8();
        if (role < 1 || role > 3 || flat.size() % 2 != 0 || s.stdio > 7)
            return std::nullopt;
        s.role = static_cast<HandlerRole>(role);
        for (std::size_t i = 0; i < flat.size(); i += 2) {
            if (flat[i].empty())
                return std::nullopt;
            s.variables.emplace_back(flat[i], flat[i + 1]);
        }
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
        ConfigText t;
        t.size = r.u32();
        t.generation = r.u32();
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
        // Zero bytes is the peer's close, or an empty message (none of ours
        // is empty: a protocol error); only a closed peer leaves POLLHUP.
        pollfd p{sock, POLLIN | POLLRDHUP, 0};
        const bool hung_up = ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP));
        r.kind = hung_up ? Received::Kind::closed : Received::Kind::broken;
        r.err = hung_up ? 0 : EPROTO;
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

SpawnerPolicy spawner_policy(std::shared_ptr<const Config> config, const Credentials& fallback,
                             const char* const* environment)
{
    SpawnerPolicy p;
    p.generations.push_back({0, std::move(config)});
    p.fallback = fallback;
    for (auto e = environment; e && *e; ++e) {
        const std::string_view entry(*e);
        if (!unsafe_variable(entry.substr(0, entry.find('='))))
            p.base_env.emplace_back(entry);
    }
    return p;
}

std::uint32_t adopt(SpawnerPolicy& policy, std::shared_ptr<const Config> config)
{
    const std::uint32_t number = policy.generations.back().number + 1;
    policy.generations.push_back({number, std::move(config)});
    while (policy.generations.size() > max_generations)
        policy.generations.pop_front();
    return number;
}

namespace {

const char* role_name(HandlerRole role)
{
    switch (role) {
    case HandlerRole::exec:
        return "exec handler";
    case HandlerRole::acp:
        return "acp";
    case HandlerRole::exit_handler:
        return "exit handler";
    }
    return "program";
}

const Service* nth_service(const Config& config, std::uint32_t n)
{
    for (const auto& port : config.ports) {
        if (n < port.services.size())
            return &port.services[n];
        n -= static_cast<std::uint32_t>(port.services.size());
    }
    return nullptr;
}

} // namespace

Result<Launch> resolve(const SpawnerPolicy& policy, const spawn_protocol::Spawn& request)
{
    const auto gen = std::find_if(policy.generations.begin(), policy.generations.end(),
                                  [&](const auto& g) { return g.number == request.generation; });
    if (gen == policy.generations.end())
        return fail("not allowed: configuration generation " + std::to_string(request.generation) + " is not known");
    const Config& config = *gen->config;
    const Service* s = nth_service(config, request.service);
    const std::string who = "service " + std::to_string(request.service);
    if (!s)
        return fail("not allowed: there is no " + who);
    Launch l;
    switch (request.role) {
    case HandlerRole::exec:
        l.argv = s->exec;
        break;
    case HandlerRole::acp:
        if (!s->acp.empty())
            l.argv = {s->acp};
        break;
    case HandlerRole::exit_handler:
        if (config.session.mode == SessionMode::process)
            l.argv = config.session.exit_handler;
        l.process_group = true;
        break;
    }
    if (l.argv.empty() || l.argv.front().empty())
        return fail("not allowed: " + who + " has no " + role_name(request.role));
    const auto stage = stage_of(request.role);
    Variables vars;
    for (const auto& [name, value] : request.variables) {
        if (!documented_variable(name, stage))
            return fail("not allowed: variable " + text::quoted(name) + " for the " + role_name(request.role));
        if (std::any_of(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; }))
            return fail("not allowed: variable " + name + " given twice");
        vars.emplace_back(name, value);
    }
    std::vector<const char*> base;
    for (const auto& e : policy.base_env)
        base.push_back(e.c_str());
    base.push_back(nullptr);
    for (auto& e : build_environment(vars, s->var_prefix, config.empty_env, base.data()))
        // A prefix such as "LD_" must not make a loader variable either.
        if (!unsafe_variable(std::string_view(e).substr(0, e.find('='))))
            l.env.push_back(std::move(e));
    l.as = credentials_for(s->user, policy.fallback);
    return l;
}

std::string refusal(const SpawnerPolicy& policy, const spawn_protocol::Bind& request)
{
    // As the daemon plans its sockets (server/listener.cpp bind_plan): a port
    // whose sections all name an address binds those addresses, else the wildcard.
    const IpAddress want = request.where.ip.unmapped();
    const bool wildcard_request = want == *IpAddress::parse(want.is_v4() ? "0.0.0.0" : "::");
    const Config& config = *policy.generations.back().config;
    for (const auto& port : config.ports) {
        if (port.port != request.where.port)
            continue;
        const bool wildcard =
            port.services.empty() || std::any_of(port.services.begin(), port.services.end(), [](const Service& s) {
                return s.interface.kind != InterfaceSpec::Kind::address;
            });
        if (wildcard ? wildcard_request
                     : std::any_of(port.services.begin(), port.services.end(),
                                   [&](const Service& s) { return s.interface.address.unmapped() == want; }))
            return {};
    }
    return "not allowed: " + request.where.str() + " is not a configured address and port";
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
