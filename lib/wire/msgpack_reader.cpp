// MessagePack reader: one pass over the bytes builds the value, checking every length against
// what is left, so strings and binaries are copied whole rather than byte by byte (nlohmann's
// from_msgpack does the latter). It yields the same values as nlohmann's reader did: positive
// fixint and uint* as unsigned, negative fixint and int* as signed, float32 widened to double,
// bin as binary without subtype, the last of duplicate keys winning. It refuses ext types,
// non-string keys, invalid UTF-8, nesting deeper than max_nesting, trailing bytes and values
// above the memory budget (internal.hpp).
// Why not Debian's msgpuck: its mp_check counts elements in an int, so it passes an array32
// of 2^32-1 elements in five bytes, and it accepts the never-used byte 0xc1.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <wampbox/error.hpp>

#include "internal.hpp"

namespace wampbox::wire::detail {
namespace {

/// Most items reserved up front for an array; WAMP messages rarely have more.
constexpr std::size_t max_reserved_items = 16;

class msgpack_reader {
 public:
  explicit msgpack_reader(std::string_view bytes)
      : p_(reinterpret_cast<const unsigned char*>(bytes.data())),
        end_(p_ + bytes.size()),
        budget_("MessagePack", bytes.size()) {}

  /// The one value the bytes hold.
  value read_all() {
    value v = read(0);
    if (p_ != end_) fail("trailing bytes after the value");
    return v;
  }

  /// The elements of the array the bytes hold, into `items`; nullopt, having read nothing, when
  /// the bytes hold no array or one of more elements than `items` has room for.
  std::optional<std::size_t> read_all_items(std::span<value> items) {
    if (p_ == end_) return std::nullopt;
    std::size_t count;
    if (*p_ >= 0x90 && *p_ <= 0x9f) {
      count = *p_ & 0x0fU;
      ++p_;
    } else if (*p_ == 0xdc) {
      ++p_;
      count = take_be<std::uint16_t>();
    } else {
      return std::nullopt;  // array32 (never this short) or no array
    }
    if (count > items.size()) return std::nullopt;
    budget_.add_value();  // what read() and read_array() charge for the array itself
    budget_.add_block();
    for (std::size_t i = 0; i < count; ++i) items[i] = read(1);
    if (p_ != end_) fail("trailing bytes after the value");
    return count;
  }

 private:
  [[noreturn]] static void fail(const std::string& why) {
    throw protocol_error(errc::malformed_message, "MessagePack: " + why);
  }

  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  /// Takes `n` bytes; fails when fewer are left.
  const unsigned char* take(std::size_t n) {
    if (n > left()) fail("unexpected end of input");
    const unsigned char* at = p_;
    p_ += n;
    return at;
  }

  /// Takes a big-endian unsigned integer of type T.
  template <typename T>
  T take_be() {
    const unsigned char* at = take(sizeof(T));
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v << 8 | at[i]);
    return v;
  }

  /// `depth`: containers around the value being read.
  value read(int depth) {
    const unsigned char b = *take(1);
    budget_.add_value();
    if (b <= 0x7f) return value(std::uint64_t{b});
    if (b >= 0xe0) return value(std::int64_t{static_cast<std::int8_t>(b)});
    if (b <= 0x8f) return read_map(b & 0x0fU, depth);
    if (b <= 0x9f) return read_array(b & 0x0fU, depth);
    if (b <= 0xbf) return read_string(b & 0x1fU);
    switch (b) {
      case 0xc0: return value();
      case 0xc2: return value(false);
      case 0xc3: return value(true);
      case 0xc4: return read_binary(take_be<std::uint8_t>());
      case 0xc5: return read_binary(take_be<std::uint16_t>());
      case 0xc6: return read_binary(take_be<std::uint32_t>());
      case 0xca: return value(double{std::bit_cast<float>(take_be<std::uint32_t>())});
      case 0xcb: return value(std::bit_cast<double>(take_be<std::uint64_t>()));
      case 0xcc: return value(std::uint64_t{take_be<std::uint8_t>()});
      case 0xcd: return value(std::uint64_t{take_be<std::uint16_t>()});
      case 0xce: return value(std::uint64_t{take_be<std::uint32_t>()});
      case 0xcf: return value(take_be<std::uint64_t>());
      case 0xd0: return value(std::int64_t{static_cast<std::int8_t>(take_be<std::uint8_t>())});
      case 0xd1: return value(std::int64_t{static_cast<std::int16_t>(take_be<std::uint16_t>())});
      case 0xd2: return value(std::int64_t{static_cast<std::int32_t>(take_be<std::uint32_t>())});
      case 0xd3: return value(static_cast<std::int64_t>(take_be<std::uint64_t>()));
      case 0xd9: return read_string(take_be<std::uint8_t>());
      case 0xda: return read_string(take_be<std::uint16_t>());
      case 0xdb: return read_string(take_be<std::uint32_t>());
      case 0xdc: return read_array(take_be<std::uint16_t>(), depth);
      case 0xdd: return read_array(take_be<std::uint32_t>(), depth);
      case 0xde: return read_map(take_be<std::uint16_t>(), depth);
      case 0xdf: return read_map(take_be<std::uint32_t>(), depth);
      case 0xc1: fail("invalid byte 0xc1");
      default: fail("extension types are not supported");  // 0xc7-0xc9, 0xd4-0xd8
    }
  }

  std::string read_utf8(std::size_t size) {
    const std::string_view s(reinterpret_cast<const char*>(take(size)), size);
    if (!valid_utf8(s)) fail("string is not valid UTF-8");
    return std::string(s);
  }

  value read_string(std::size_t size) {
    value v(read_utf8(size));
    budget_.add_block(size);
    return v;
  }

  value read_binary(std::size_t size) {
    const unsigned char* at = take(size);
    budget_.add_block(size);
    return value::binary(bytes(at, at + size));
  }

  void enter(int& depth) {
    if (++depth > max_nesting) fail("value nested too deeply");
  }

  value read_array(std::size_t count, int depth) {
    enter(depth);
    budget_.add_block();
    value result = value::array();
    auto& items = result.get_ref<value::array_t&>();
    // Why the cap: a claimed count is not to be trusted, and nested claims would multiply.
    items.reserve(std::min(count, max_reserved_items));
    for (std::size_t i = 0; i < count; ++i) items.push_back(read(depth));
    return result;
  }

  value read_map(std::size_t count, int depth) {
    enter(depth);
    budget_.add_block();
    value result = value::object();
    auto& fields = result.get_ref<value::object_t&>();
    for (std::size_t i = 0; i < count; ++i) {
      std::string key = read_key();
      budget_.add_member(key.size());
      fields.insert_or_assign(std::move(key), read(depth));
    }
    return result;
  }

  std::string read_key() {
    const unsigned char b = *take(1);
    if (b >= 0xa0 && b <= 0xbf) return read_utf8(b & 0x1fU);
    switch (b) {
      case 0xd9: return read_utf8(take_be<std::uint8_t>());
      case 0xda: return read_utf8(take_be<std::uint16_t>());
      case 0xdb: return read_utf8(take_be<std::uint32_t>());
      default: fail("map key is not a string");
    }
  }

  const unsigned char* p_;
  const unsigned char* end_;
  memory_budget budget_;
};

}  // namespace

value read_msgpack(std::string_view bytes) {
  return malformed_on_bad_alloc([&] { return msgpack_reader(bytes).read_all(); });
}

std::optional<std::size_t> read_msgpack_items(std::string_view bytes, std::span<value> items) {
  return malformed_on_bad_alloc([&] { return msgpack_reader(bytes).read_all_items(items); });
}

}  // namespace wampbox::wire::detail
