// The allocation probe's counters and the hook that feeds them: a replaced operator new, or
// AddressSanitizer's allocation hook when ASan owns operator new (replacing it there would cost
// ASan its new/delete mismatch checks).
#include "allocation_probe.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace {

thread_local bool armed = false;
thread_local std::size_t total_bytes = 0;
thread_local std::size_t requests = 0;
thread_local std::size_t largest_request = 0;

void record(std::size_t size) noexcept {
  if (!armed) return;
  ++requests;
  total_bytes += size;
  largest_request = std::max(largest_request, size);
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// Declared by LLVM's <sanitizer/allocator_interface.h>, which GCC does not install; the
// function itself is in every libasan.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));

namespace {
void on_malloc(const volatile void*, std::size_t size) { record(size); }
void on_free(const volatile void*) {}
[[maybe_unused]] const int hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace

#else

// libstdc++'s array, nothrow and sized forms all go through these two; the default operator
// delete frees both with free(), which matches malloc and aligned_alloc.
void* operator new(std::size_t size) {
  record(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* operator new(std::size_t size, std::align_val_t align) {
  record(size);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (std::max<std::size_t>(size, 1) + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

#endif

namespace wampbox::test {

allocation_probe::allocation_probe() noexcept {
  total_bytes = 0;
  requests = 0;
  largest_request = 0;
  armed = true;
}

allocation_probe::~allocation_probe() { armed = false; }

std::size_t allocation_probe::total() const noexcept { return total_bytes; }

std::size_t allocation_probe::largest() const noexcept { return largest_request; }

std::size_t allocation_probe::count() const noexcept { return requests; }

}  // namespace wampbox::test
