// The benchmarks' timing loop: messages per second of one operation, run for a fixed time.
// (cryptobox_bench.cpp still has its own copy; it can switch to this header.)
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>

namespace wampbox::bench {

/// Seconds each cell runs (0.3 by default; the benchmarks take it from their first argument).
inline double seconds_per_cell = 0.3;
/// Keeps results observable so nothing is optimised away.
inline volatile std::size_t sink;

/// Messages per second of `op`, run in growing batches for `seconds_per_cell`.
inline double rate(const std::function<void()>& op) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 16; ++i) op();  // warm up caches and the codec's reused buffers
  std::size_t done = 0;
  std::size_t batch = 16;
  const auto start = clock::now();
  double elapsed = 0;
  while (elapsed < seconds_per_cell) {
    for (std::size_t i = 0; i < batch; ++i) op();
    done += batch;
    batch = std::min<std::size_t>(batch * 2, 4096);
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  }
  return static_cast<double>(done) / elapsed;
}

}  // namespace wampbox::bench
