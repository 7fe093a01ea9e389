// Forward-confirmed client names (client_name.hpp).
#include "tcpproxy/session/client_name.hpp"

#include "tcpproxy/core/fd.hpp"
#include "tcpproxy/net/socket.hpp"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace tcpproxy {

namespace {

bool host_name_characters(const std::string& name)
{
    return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    });
}

// One session's lookup, shared by the session and the resolver thread.
struct Lookup {
    IpAddress client;
    Fd done{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)}; // readable once `name` is set
    std::string name;
    std::atomic<bool> ready{false};
    std::atomic<bool> abandoned{false}; // the session stopped waiting
};

// getnameinfo() and getaddrinfo() cannot be cancelled, and a silent resolver
// holds them for its whole timeout, so lookups run on a few threads of their
// own while the session waits on an eventfd for its budget only. Bounded on
// both sides: at most `max_threads` threads (all may hang on a dead
// resolver) and `max_queued` waiting lookups; beyond that a client is named
// by its address at once. With 1,000 clients and a dead resolver that is 4
// hung threads, not 1,000. The threads are detached and the pool is never
// destroyed: joining them at exit would make shutdown wait for the resolver.
class Resolver {
public:
    static Resolver& instance()
    {
        static Resolver* r = new Resolver; // outlives main(): its threads may still be in getnameinfo
        return *r;
    }

    bool submit(std::shared_ptr<Lookup> lookup)
    {
        std::lock_guard lock(mutex_);
        std::erase_if(queue_, [](const auto& l) { return l->abandoned.load(std::memory_order_relaxed); });
        if (queue_.size() >= max_queued)
            return false;
        queue_.push_back(std::move(lookup));
        if (idle_ == 0 && threads_ < max_threads) {
            try {
                std::thread([this] { run(); }).detach();
                ++threads_;
            } catch (const std::system_error&) { // no thread now: a running one will take it, or it times out
            }
        }
        cv_.notify_one();
        return true;
    }

private:
    static constexpr std::size_t max_threads = 4;
    static constexpr std::size_t max_queued = 64;

    void run()
    {
        ::pthread_setname_np(::pthread_self(), "tcpproxy-dns");
        for (;;) {
            std::shared_ptr<Lookup> l;
            {
                std::unique_lock lock(mutex_);
                ++idle_;
                cv_.wait(lock, [this] { return !queue_.empty(); });
                --idle_;
                l = std::move(queue_.front());
                queue_.pop_front();
            }
            if (l->abandoned.load(std::memory_order_relaxed))
                continue;
            l->name = confirmed_client_name(l->client, host_name_of(l->client), forward_addresses);
            l->ready.store(true, std::memory_order_release);
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto n = ::write(l->done.get(), &one, sizeof one);
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Lookup>> queue_;
    std::size_t threads_ = 0;
    std::size_t idle_ = 0;
};

} // namespace

std::optional<std::string> client_name_within(const IpAddress& client, const Activity& activity, std::int64_t budget_ms)
{
    auto lookup = std::make_shared<Lookup>();
    lookup->client = client.unmapped();
    if (!lookup->done || !Resolver::instance().submit(lookup))
        return std::nullopt;
    const auto deadline = activity.now() + budget_ms;
    for (;;) {
        const auto waited = activity.wait_until(lookup->done.get(), POLLIN, deadline);
        if (lookup->ready.load(std::memory_order_acquire))
            return lookup->name;
        if (waited != Activity::Wait::ready || activity.now() >= deadline) {
            lookup->abandoned.store(true, std::memory_order_relaxed);
            return std::nullopt;
        }
    }
}

std::string confirmed_client_name(const IpAddress& client, const std::string& ptr, const ForwardLookup& forward)
{
    const IpAddress ip = client.unmapped();
    if (ptr == ip.str() || !host_name_characters(ptr))
        return ip.str();
    for (const auto& a : forward(ptr))
        if (a.unmapped() == ip)
            return ptr;
    return ip.str();
}

std::vector<IpAddress> forward_addresses(const std::string& name)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0)
        return {};
    std::vector<IpAddress> out;
    for (auto* p = res; p; p = p->ai_next)
        if (p->ai_family == AF_INET || p->ai_family == AF_INET6)
            out.push_back(Endpoint::from_sockaddr(p->ai_addr).ip);
    ::freeaddrinfo(res);
    return out;
}

} // namespace tcpproxy
