// libFuzzer target: any bytes as the first bytes of a connection that should
// start with a PROXY protocol header. Besides the sanitizers, it checks what
// the session's reader relies on: a header never claims bytes it was not
// given, need-more never comes once the largest header fits, and a header is
// recognised the same from exactly its own bytes (so the reader, which sees
// it arrive piecewise, never swallows payload). Headers with addresses must
// survive an encode/parse round trip.
#include "tcpproxy/session/proxy_protocol.hpp"

#include <cstdint>
#include <cstdlib>

namespace {

namespace pp = tcpproxy::proxy_protocol;
using Kind = pp::ParseResult::Kind;

void require(bool condition)
{
    if (!condition)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> bytes(data, size);
    const auto r = pp::parse(bytes);
    switch (r.kind) {
    case Kind::need_more:
        require(size < pp::max_header_length);
        break;
    case Kind::error:
        require(!r.error.empty());
        break;
    case Kind::header: {
        const auto& h = r.header;
        require(h.length > 0 && h.length <= size && h.length <= pp::max_header_length);
        require(h.version == 1 || h.version == 2);
        require(h.source.has_value() == h.destination.has_value());
        // Every proper prefix of the header asks for more; the header alone parses the same.
        for (std::size_t n : {std::size_t{0}, h.length / 2, h.length - 1})
            require(pp::parse(bytes.first(n)).kind == Kind::need_more);
        const auto again = pp::parse(bytes.first(h.length));
        require(again.kind == Kind::header && again.header.length == h.length);
        if (h.source) {
            require(h.source->ip.family == h.destination->ip.family);
            const auto encoded = pp::encode(h.version, *h.source, *h.destination);
            const auto back =
                pp::parse(std::span(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size()));
            require(back.kind == Kind::header && back.header.length == encoded.size());
            // Encoding prints IPv4-mapped addresses as IPv4: compare unmapped.
            require(back.header.source->ip.unmapped() == h.source->ip.unmapped());
            require(back.header.source->port == h.source->port);
            require(back.header.destination->ip.unmapped() == h.destination->ip.unmapped());
            require(back.header.destination->port == h.destination->port);
        }
        break;
    }
    }
    return 0;
}
