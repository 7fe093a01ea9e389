#pragma once
// Who handles client data and who runs handler programs (reference §4.5).
//
// A configured Identity may name only part of an identity (a numeric user id,
// or only `.GROUP`); the parts left open come from the default identity,
// `nobody` (its user id and group). That way a started-as-root daemon never
// falls back to root for a part the administrator did not name.
#include "tcpproxy/config/config.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tcpproxy {

struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    bool operator==(const Credentials&) const = default;
};

// `nobody` from the user database (65534/65534 when it has no such entry).
Credentials default_credentials();

// The ids `identity` stands for, open parts taken from `fallback`.
Credentials credentials_for(const Identity& identity, const Credentials& fallback);

// The daemon's own data-path identity by default: the system user
// `tcpproxy` (created by the package), distinct from the handlers' default
// `nobody` so that a handler cannot read or take the daemon's sessions; `fallback`
// when there is no such user (identity_warnings says so).
inline constexpr const char* daemon_user = "tcpproxy";
Credentials data_path_default(const Credentials& fallback);

// The identity the standalone daemon's own process takes when started as
// root: the services' identity when they all name the same one, else data_path_default().
Credentials process_credentials(const Config& config, const Credentials& fallback);

// What to warn about at start for a daemon running as `daemon`: no
// `tcpproxy` user (the daemon shares the handlers' default user), and every
// service whose programs run as the daemon's own user while captures or
// session logs are on (a handler could read other sessions' files).
std::vector<std::string> identity_warnings(const Config& config, const Credentials& daemon,
                                           const Credentials& fallback);

// The user ids of every service, as credentials_for() gives them.
std::vector<Credentials> service_credentials(const Config& config, const Credentials& fallback);

// The supplementary groups of `uid` (its user database entry with `gid`
// added, as initgroups() would set them); just `gid` when it has no entry.
std::vector<gid_t> supplementary_groups(uid_t uid, gid_t gid);

// Irrevocably becomes `c`: supplementary groups, then real/effective/saved
// group and user ids; verifies that no id is left at its old value (root can
// not be regained). Throws std::system_error naming the failing call.
// Safe with threads running: glibc applies set*id to every thread.
void become(const Credentials& c);

// Real, effective and saved ids as "r/e/s" for messages.
std::string describe_ids();

} // namespace tcpproxy
