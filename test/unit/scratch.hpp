#pragma once
// Scratch files for unit tests that touch the file system.
#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tcpproxy::test {

// A fresh directory under $TMPDIR, removed with everything in it.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag = "unit")
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / ("tcpproxy-" + tag + "-XXXXXX")).string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string str() const { return path.string(); }
};

// The whole file, bytes as they are.
inline std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// How many entries a directory holds.
inline std::size_t entries(const std::filesystem::path& dir)
{
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

// The lines of `text`, without their newlines.
inline std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

} // namespace tcpproxy::test
