// Peak memory of reading hostile maximum-size (16 MiB) messages in each serializer: a separate
// binary, because it replaces the global operator new to count the bytes live on the heap.
// Counting is exact and not timing based (RSS would also see allocator caching and, under ASan,
// its quarantine).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include <doctest/doctest.h>
#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>

namespace {

std::atomic<std::size_t> live{0};
std::atomic<std::size_t> peak{0};

void* counted(std::size_t size, std::size_t alignment = 0) noexcept {
  void* p = nullptr;
  if (alignment > alignof(std::max_align_t)) {
    if (::posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) p = nullptr;
  } else {
    p = std::malloc(size == 0 ? 1 : size);
  }
  if (p == nullptr) return nullptr;
  const std::size_t now = live += ::malloc_usable_size(p);
  std::size_t seen = peak.load();
  while (now > seen && !peak.compare_exchange_weak(seen, now)) {
  }
  return p;
}

void* counted_or_throw(std::size_t size, std::size_t alignment = 0) {
  void* p = counted(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void uncounted(void* p) noexcept {
  if (p == nullptr) return;
  live -= ::malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return counted_or_throw(n); }
void* operator new[](std::size_t n) { return counted_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_or_throw(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { uncounted(p); }
void operator delete[](void* p) noexcept { uncounted(p); }
void operator delete(void* p, std::size_t) noexcept { uncounted(p); }
void operator delete[](void* p, std::size_t) noexcept { uncounted(p); }
void operator delete(void* p, std::align_val_t) noexcept { uncounted(p); }
void operator delete[](void* p, std::align_val_t) noexcept { uncounted(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { uncounted(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { uncounted(p); }

namespace {

using wampbox::wire::serializer_kind;

constexpr std::size_t max_size = std::size_t{16} << 20;  // the transports' default maximum

/// Reads `bytes`; returns the peak of heap bytes above what was live before, and the error.
std::size_t peak_of_reading(serializer_kind s, const std::string& bytes,
                            std::optional<wampbox::errc>& error) {
  const std::size_t before = live.load();
  peak = before;
  try {
    (void)wampbox::wire::deserialize(s, bytes);
    error.reset();
  } catch (const wampbox::protocol_error& e) {
    error = static_cast<wampbox::errc>(e.code().value());
  }
  return peak.load() - before;
}

/// A binary-format array of `max_size` bytes: `header` (array32 with the count) then empty maps.
std::string binary_empty_maps(char array32, char empty_map) {
  const std::size_t count = max_size - 5;
  std::string out{array32, static_cast<char>(count >> 24), static_cast<char>(count >> 16),
                  static_cast<char>(count >> 8), static_cast<char>(count)};
  out.append(count, empty_map);
  return out;
}

/// A JSON text of `max_size` bytes: `prefix`, "[", then `item` + "," repeated, then one more
/// item.
std::string json_items(const std::string& item, const std::string& prefix = "") {
  std::string out = prefix + "[";
  while (out.size() + 2 * item.size() + 2 <= max_size) out += item + ",";
  out += item + "]";
  return out;
}

void check_bounded(serializer_kind s, const std::string& bytes, std::size_t bound_factor) {
  REQUIRE(bytes.size() <= max_size);
  std::optional<wampbox::errc> error;
  const std::size_t used = peak_of_reading(s, bytes, error);
  MESSAGE(std::string(wampbox::wire::serializer_name(s))
          << ": peak " << (used >> 20) << " MiB for " << (bytes.size() >> 20) << " MiB ("
          << (used / bytes.size()) << "x)");
  CHECK(error == wampbox::errc::message_too_large);
  CHECK(used <= bound_factor * bytes.size());
}

}  // namespace

// Bounds: the value budget is 64 MiB (4x) by estimate; vector growth can add half again. JSON's
// reader (simdjson) also holds ~14x the text by design (tape 8 bytes per byte, indexes 4,
// strings 5/3), and a padded copy.
TEST_CASE("a 16 MiB MessagePack message of empty maps stays within 8x its size") {
  check_bounded(serializer_kind::msgpack, binary_empty_maps('\xdd', '\x80'), 8);
}

TEST_CASE("a 16 MiB CBOR message of empty maps stays within 8x its size") {
  check_bounded(serializer_kind::cbor, binary_empty_maps('\x9a', '\xa0'), 8);
}

namespace {

/// A JSON object of about `max_size` bytes whose members (distinct keys) are empty objects.
std::string json_members() {
  std::string out = "{";
  for (std::size_t i = 0; out.size() + 32 < max_size; ++i)
    out += "\"" + std::to_string(i) + "\":{},";
  out.back() = '}';
  return out;
}

}  // namespace

TEST_CASE("a 16 MiB JSON message of empty arrays or objects stays within 24x its size") {
  check_bounded(serializer_kind::json, json_items("[]"), 24);
  check_bounded(serializer_kind::json, json_items("{}"), 24);
  check_bounded(serializer_kind::json, json_members(), 24);
  // A leading UTF-8 BOM: simdjson refuses it, nlohmann's parser (the reference reader) reads it.
  check_bounded(serializer_kind::json, json_items("[]", "\xef\xbb\xbf"), 24);
}

TEST_CASE("a legitimate 16 MiB message of one string still reads") {
  for (auto s : {serializer_kind::json, serializer_kind::msgpack, serializer_kind::cbor}) {
    std::string bytes;
    wampbox::wire::serialize(s, wampbox::value::array({std::string(max_size - 64, 'x')}), bytes);
    std::optional<wampbox::errc> error;
    const std::size_t used = peak_of_reading(s, bytes, error);
    CHECK(!error);
    CHECK(used <= 24 * bytes.size());
  }
}
