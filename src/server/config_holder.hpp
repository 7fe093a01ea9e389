#pragma once
// The configuration new connections use. A reload swaps it; sessions keep
// the one they started with (their SessionRecord holds a reference).
#include "tcpproxy/config/config.hpp"

#include <mutex>

namespace tcpproxy {

class ConfigHolder {
public:
    explicit ConfigHolder(ConfigPtr c) : config_(std::move(c)) {}
    ConfigPtr get() const
    {
        std::lock_guard lock(mutex_);
        return config_;
    }
    void set(ConfigPtr c)
    {
        std::lock_guard lock(mutex_);
        config_ = std::move(c);
    }

private:
    mutable std::mutex mutex_;
    ConfigPtr config_;
};

} // namespace tcpproxy
