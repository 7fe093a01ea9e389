// bench_latency: request/response latency on one persistent connection. Sends
// a --size byte request, waits for the whole echoed reply, and times each such
// round trip; --warmup round trips first are not counted. Prints
//   count=N p50_us=X p90_us=X p99_us=X max_us=X mean_us=X
// and exits non-zero if any reply is missing, late or wrong.
#include "bench_net.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <numeric>
#include <vector>

namespace {

using bench::Clock;

double percentile(const std::vector<double>& sorted, double p)
{
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(rank, sorted.size() - 1)];
}

} // namespace

int main(int argc, char** argv)
{
    try {
        bench::Args args(argc, argv,
                         {{"connect", "127.0.0.1:40001"},
                          {"count", "20000"},
                          {"warmup", "1000"},
                          {"size", "64"},
                          {"timeout-ms", "5000"}});
        const auto count = static_cast<std::size_t>(args.num("count"));
        const auto warmup = static_cast<std::size_t>(args.num("warmup"));
        const auto size = static_cast<std::size_t>(args.num("size"));
        const auto timeout = std::chrono::milliseconds(args.num("timeout-ms"));
        if (count < 1 || size < 1 || size > 65536)
            throw std::invalid_argument("--count must be >= 1 and --size 1..65536");

        bench::Fd fd = bench::connect_blocking(bench::parse_endpoint(args.str("connect")));
        std::vector<char> request(size);
        std::vector<char> reply(size);
        std::vector<double> micros;
        micros.reserve(count);
        for (std::size_t i = 0; i < warmup + count; ++i) {
            // Each request differs from the last, so a stale or misrouted
            // reply cannot pass the check.
            std::fill(request.begin(), request.end(), static_cast<char>('A' + i % 26));
            const auto t0 = Clock::now();
            bench::write_all(fd.get(), request.data(), size);
            if (!bench::read_exact(fd.get(), reply.data(), size, t0 + timeout)) {
                std::cerr << "bench_latency: round trip " << i << ": no complete reply within the timeout\n";
                return 1;
            }
            const auto t1 = Clock::now();
            if (reply != request) {
                std::cerr << "bench_latency: round trip " << i << ": reply differs from the request\n";
                return 1;
            }
            if (i >= warmup)
                micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        std::sort(micros.begin(), micros.end());
        const double mean = std::accumulate(micros.begin(), micros.end(), 0.0) / static_cast<double>(micros.size());
        std::cout << "count=" << micros.size() << " p50_us=" << percentile(micros, 50)
                  << " p90_us=" << percentile(micros, 90) << " p99_us=" << percentile(micros, 99)
                  << " max_us=" << micros.back() << " mean_us=" << mean << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "bench_latency: " << e.what() << '\n';
        return 1;
    }
}
