// Measures heap allocation: what a piece of code requests from operator new (and, under
// AddressSanitizer, from malloc too), so tests can assert that hostile input allocates nothing big.
#pragma once

#include <cstddef>

namespace wampbox::test {

/// Records the current thread's heap requests from construction to destruction (probes do not
/// nest). Requests that fail (e.g. std::bad_alloc for a lying length) are recorded as well.
class allocation_probe {
 public:
  allocation_probe() noexcept;
  ~allocation_probe();
  allocation_probe(const allocation_probe&) = delete;
  allocation_probe& operator=(const allocation_probe&) = delete;

  /// The sum of all requested sizes.
  std::size_t total() const noexcept;
  /// The largest single request.
  std::size_t largest() const noexcept;
  /// The number of requests.
  std::size_t count() const noexcept;
};

}  // namespace wampbox::test
