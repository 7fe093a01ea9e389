// parse_config / load_config_file (config_load.hpp): text -> grammar ->
// validation, a port section at a time, with every diagnostic of both in
// one sorted list.
#include "tcpproxy/config/config_load.hpp"

#include "reporter.hpp"
#include "validate.hpp"
#include "tcpproxy/grammar/parse.hpp"
#include "tcpproxy/grammar/source.hpp"
#include "tcpproxy/config/values.hpp"

#include "tcpproxy/core/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace tcpproxy {

LoadResult parse_config(std::string_view text, const std::string& file)
{
    LoadResult result;
    const grammar::Source source(text);
    // Each port is validated as soon as the grammar has read it, and then
    // dropped (validate.hpp). The grammar's diagnostics go first all the
    // same: the order the stable sort keeps for two at one position.
    Diagnostics checks;
    config::Reporter report(source, file, checks);
    config::Validation validation(report, file);
    grammar::ParsedFile parsed = grammar::parse(
        source, file, [&](const ast::File& above, const ast::PortSection& port) { validation.port(above, port); });
    auto config = validation.finish(parsed.tree);
    for (auto& d : parsed.diagnostics)
        result.diagnostics.add(std::move(d));
    result.diagnostics.append(std::move(checks));
    result.diagnostics.sort();
    if (!result.diagnostics.has_errors())
        result.config = std::move(config);
    if (result.config) // relative paths are the file's directory's (tcpproxy.conf(5) FILES)
        resolve_config_paths(*result.config, config_base_directory(file));
    return result;
}

namespace {

// Why someone other than root could change what `path` (stat as `st`) says, or "".
std::string writable_by_others(const std::string& path, const struct stat& st, bool directory)
{
    if (st.st_uid != 0)
        return path + " is owned by uid " + std::to_string(st.st_uid) + ", not root";
    // A sticky directory (/tmp) lets nobody else replace the root-owned entries in it.
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(directory && (st.st_mode & S_ISVTX))) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return path + " is writable by " + ((st.st_mode & S_IWOTH) ? "others" : "its group") + " (mode " + mode + ")";
    }
    return {};
}

// Every directory above `path` (as written and as resolved), up to /.
std::string directories_writable_by_others(const std::string& path)
{
    std::vector<std::filesystem::path> chains;
    std::error_code ec;
    chains.push_back(std::filesystem::absolute(path, ec).lexically_normal());
    if (const auto real = std::filesystem::canonical(path, ec); !ec)
        chains.push_back(real);
    for (const auto& p : chains) {
        for (auto dir = p.parent_path();; dir = dir.parent_path()) {
            struct stat st {};
            if (::stat(dir.c_str(), &st) == 0)
                if (auto why = writable_by_others(dir.string(), st, true); !why.empty())
                    return why;
            if (dir == dir.root_path() || dir.empty())
                break;
        }
    }
    return {};
}

} // namespace

Result<std::string> read_config_text(const std::string& file, bool may_wait)
{
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | (may_wait ? 0 : O_NONBLOCK)));
    if (!fd)
        return fail(errno_text("open"));
    // As sshd's StrictModes: run as root, a file another user can change
    // would hand that user root (a `user root` exec service, then SIGHUP).
    // Character devices (/dev/null, /dev/stdin on a tty) say what the kernel says.
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return fail(errno_text("fstat"));
    if (::geteuid() == 0 && !S_ISCHR(st.st_mode)) {
        auto why = writable_by_others(file, st, false);
        if (why.empty())
            why = directories_writable_by_others(file);
        if (!why.empty())
            return fail("refused, started as root: " + why);
    }
    // Read straight into the string, sized once from fstat for a regular
    // file: a 400 KB file appended 64 KB at a time was copied through five
    // ever larger buffers, each new page a page fault (--check-config's time
    // on a large file is mostly page faults). Other files (FIFOs, devices)
    // grow the string as they come.
    std::string text;
    const bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
    if (sized) // +1: the read after the last byte finds the end without growing the string
        text.reserve(std::min(static_cast<std::size_t>(st.st_size), max_config_bytes) + 1);
    for (;;) {
        const std::size_t used = text.size();
        if (text.capacity() - used < (sized ? 1 : 65536)) // doubling, for a size not known (or changed)
            text.reserve(used + std::max<std::size_t>(used, 65536));
        const std::size_t room = text.capacity() - used;
        ssize_t n = 0;
        text.resize_and_overwrite(used + room, [&](char* data, std::size_t) {
            n = ::read(fd.get(), data + used, room);
            return used + static_cast<std::size_t>(std::max<ssize_t>(n, 0));
        });
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(errno_text("read"));
        if (n == 0)
            return text;
        if (text.size() > max_config_bytes)
            return fail("larger than " + std::to_string(max_config_bytes >> 20) + " MiB");
    }
}

LoadResult load_config_text(const Result<std::string>& text, const std::string& file)
{
    if (text)
        return parse_config(*text, file);
    LoadResult result;
    Diagnostic d;
    d.file = file;
    d.message = "cannot read the configuration: " + text.error().message;
    result.diagnostics.add(std::move(d));
    return result;
}

LoadResult load_config_file(const std::string& file) { return load_config_text(read_config_text(file), file); }

} // namespace tcpproxy
