// wampbox — internal helpers of the wire layer: nesting limit, UTF-8 validation, Base64,
// the readers behind deserialize.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <wampbox/error.hpp>
#include <wampbox/wire/message.hpp>
#include <wampbox/wire/value.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wampbox::wire::detail {

/// Deepest container nesting accepted when reading or writing (the WAMP array is level 1).
/// Why: the writers and nlohmann's binary readers recurse once per level.
inline constexpr int max_nesting = 128;

/// A message may take at most `min_memory_budget` bytes in memory once read (the estimate of
/// `memory_budget`), or `memory_budget_factor` times its size when that is more.
/// Why: one byte of MessagePack or CBOR can be an empty map taking ~100 bytes once read (16 MiB
/// of them took 1.5 GB). Legitimate data stays below, except huge arrays of tiny numbers: each
/// costs 16 bytes, so an array of more than 4 million numbers is refused.
inline constexpr std::size_t memory_budget_factor = 4;
inline constexpr std::size_t min_memory_budget = std::size_t{64} << 20;

/// Tracks what reading one message allocates for its value, approximately (nlohmann::json over
/// std::vector and std::map with glibc's malloc), and fails with protocol_error
/// (errc::message_too_large) before the budget is exceeded.
class memory_budget {
 public:
  /// A budget for reading `message_size` bytes of `format` ("JSON", "MessagePack", "CBOR").
  memory_budget(const char* format, std::size_t message_size) noexcept
      : format_(format),
        limit_(message_size > min_memory_budget / memory_budget_factor
                   ? message_size * memory_budget_factor
                   : min_memory_budget),
        left_(limit_) {}

  /// Any value: the value itself, in its array or map node.
  void add_value() { charge(value_size); }
  /// The heap block a string or binary of `size` bytes, or (size 0) an array or object, adds.
  void add_block(std::size_t size = 0) { charge(block_size + size); }
  /// An object member with a key of `key_size` bytes: its map node (the value is charged apart).
  void add_member(std::size_t key_size) { charge(member_size + key_size); }

 private:
  static constexpr std::size_t value_size = 16;   // sizeof(nlohmann::json)
  static constexpr std::size_t block_size = 48;   // a std::string/vector/map object + malloc header
  static constexpr std::size_t member_size = 80;  // a std::map node with its key, beside the value

  void charge(std::size_t bytes) {
    if (bytes > left_) exhausted();
    left_ -= bytes;
  }
  [[noreturn]] void exhausted() const {
    throw protocol_error(errc::message_too_large,
                         std::string(format_) + ": message would take more than " +
                             std::to_string(limit_ >> 20) + " MiB of memory once read");
  }

  const char* format_;
  std::size_t limit_;
  std::size_t left_;
};

/// Length (1..4) of the well-formed UTF-8 sequence starting at `p`, or 0 when it is
/// ill-formed (overlong, surrogate, above U+10FFFF, truncated). `p < end`.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char c = *p;
  const auto left = static_cast<std::size_t>(end - p);
  auto cont = [&](std::size_t i) { return (p[i] & 0xC0U) == 0x80U; };
  if (c < 0x80U) return 1;
  if (c < 0xC2U) return 0;
  if (c < 0xE0U) return left >= 2 && cont(1) ? 2 : 0;
  if (c < 0xF0U) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0U && p[1] < 0xA0U) return 0;  // overlong
    if (c == 0xEDU && p[1] > 0x9FU) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c < 0xF5U) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0U && p[1] < 0x90U) return 0;  // overlong
    if (c == 0xF4U && p[1] > 0x8FU) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

/// True when `s` is well-formed UTF-8.
inline bool valid_utf8(std::string_view s) noexcept {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  const auto end = p + s.size();
  while (p != end) {
    // ASCII fast path, eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    const std::size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

/// Appends the standard Base64 (RFC 4648 §4, '=' padded) of `data` to `out`.
void append_base64(const std::uint8_t* data, std::size_t size, std::string& out);

/// Decodes standard padded Base64; empty when `text` is not exactly that.
std::optional<bytes> decode_base64(std::string_view text);

/// Reads JSON with nlohmann's parser: the reference behaviour for what the fast reader refuses.
/// Throws protocol_error (errc::malformed_message).
value read_json_reference(std::string_view text);

/// Longest text read_json_direct takes (1 MiB). Why so: JSON text takes at most about 32 bytes of
/// memory per byte once read, so no text of this size can exceed the memory budget.
inline constexpr std::size_t direct_json_limit = std::size_t{1} << 20;

/// Reads `text` in one pass straight into a value when it stays within the common subset of JSON
/// the direct reader knows (json_direct_reader.cpp); nullopt when it does not, or when it is
/// invalid: then the full reader must read it, and gives the same value or the error.
std::optional<value> read_json_direct(std::string_view text);

/// Reads JSON as read_json does, but without trying the direct reader first: for text it has
/// already declined. Throws protocol_error (errc::malformed_message).
value read_json_full(std::string_view text);

/// Reads, as read_json_direct, a text whose value is an array of at most `items.size()` elements
/// into `items`: their number, or nullopt when the text is anything else or outside the subset
/// (then read_json must read it).
std::optional<std::size_t> read_json_direct_items(std::string_view text, std::span<value> items);

/// The bytes of `w` (8 bytes as they lie in memory) that need attention inside a JSON string:
/// '"', '\\', a control character (below 0x20) or a byte of a multi-byte UTF-8 sequence. The high
/// bit of each such byte is set; above the first one, others may be set too (SWAR: a byte-wise
/// "less than" / "equals" test on the whole word at once, whose borrows run upwards only).
constexpr std::uint64_t json_attention_bits(std::uint64_t w) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (w & highs);
}

/// Index (0..7) in memory order of the first byte `bits` (json_attention_bits, not 0) marks.
constexpr std::size_t first_marked_byte(std::uint64_t bits) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::size_t>(std::countr_zero(bits)) / 8;
  } else {
    return static_cast<std::size_t>(std::countl_zero(bits)) / 8;
  }
}

/// Skips, from `p`, the bytes that need no attention inside a JSON string (see
/// json_attention_bits): returns the first byte that does, or — when none does — the start of
/// the last 7 or fewer bytes before `end`.
inline const char* skip_plain_json(const char* p, const char* end) noexcept {
  // 32 bytes at a time with the compiler's portable vectors (SSE2 on x86-64, NEON on arm64): two
  // vectors of 16 are tested together, fewer branches and reductions on long strings.
  using bytes16 = signed char __attribute__((vector_size(16)));
  auto marked = [](const char* at) {
    bytes16 v;
    std::memcpy(&v, at, sizeof v);
    // As signed bytes, those of 0x80 and above are negative: one "< 0x20" finds them and the
    // control characters.
    return (v == '"') | (v == '\\') | (v < 0x20);
  };
  while (end - p >= 32) {
    const auto low = marked(p), high = marked(p + 16);
#if defined(__SSE2__)
    // One bit per byte straight from the masks (pmovmskb), the first marked byte the lowest.
    const auto bits =
        static_cast<std::uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(low))) |
        static_cast<std::uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(high))) << 16;
    if (bits != 0) return p + std::countr_zero(bits);
#else
    std::uint64_t words[4];
    const auto either = low | high;
    std::memcpy(words, &either, 16);
    if ((words[0] | words[1]) != 0) {
      std::memcpy(words, &low, 16);
      std::memcpy(words + 2, &high, 16);
      for (int i = 0;; ++i)
        if (words[i] != 0) return p + 8 * i + first_marked_byte(words[i]);
    }
#endif
    p += 32;
  }
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    if (const std::uint64_t bits = json_attention_bits(word); bits != 0)
      return p + first_marked_byte(bits);
    p += 8;
  }
  return p;
}

/// Reads one MessagePack value that must fill `bytes` exactly. Throws protocol_error
/// (errc::malformed_message).
value read_msgpack(std::string_view bytes);

/// Reads a MessagePack array of at most `items.size()` elements, which must fill `bytes` exactly,
/// into `items`, as read_msgpack would read them: the number of elements, or nullopt when the
/// bytes hold no array or a longer one (then read_msgpack must read them). Throws protocol_error
/// (errc::malformed_message). Why: a WAMP message's fields read without the array around them.
std::optional<std::size_t> read_msgpack_items(std::string_view bytes, std::span<value> items);

/// The most fields a WAMP message has: ERROR with Arguments and ArgumentsKw.
inline constexpr std::size_t max_message_fields = 7;

/// The message whose fields (the WAMP array's elements) are `fields`, as from_array gives it; the
/// fields are moved from. Throws protocol_error.
message message_from_fields(std::span<value> fields);

/// Runs `read` and turns allocation failure into protocol_error, as a reader's other failures.
template <typename F>
auto malformed_on_bad_alloc(F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::bad_alloc&) {
    throw protocol_error(errc::malformed_message, "value too large to hold in memory");
  }
}

}  // namespace wampbox::wire::detail
