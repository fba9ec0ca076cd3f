// wampbox — reading JSON without building a value for every part of it (internal): the codec
// checks the decrypted inner object's members in place and builds values only for the arguments.
#pragma once

#if !defined(WAMPBOX_SIMDJSON)
#error "WAMPBOX_SIMDJSON must be defined to 0 or 1 (meson.build: -Dsimdjson)"
#elif WAMPBOX_SIMDJSON
#include <simdjson.h>
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <wampbox/wire/value.hpp>

#include "internal.hpp"

namespace wampbox::wire::detail {

struct json_parser;

/// One JSON value inside a `parsed_json`: simdjson's DOM element, or the reference reader's value
/// for text simdjson refuses (in a build without simdjson, read_json's value for all text). Its
/// types are those `read_json` gives: a string that begins with U+0000 is binary (Autobahn), never
/// a string. Valid while its `parsed_json` lives.
class json_view {
 public:
#if WAMPBOX_SIMDJSON
  explicit json_view(simdjson::dom::element e) noexcept : at_(e) {}
#endif
  explicit json_view(value& v) noexcept : at_(&v) {}

  bool is_object() const noexcept;
  bool is_array() const noexcept;
  bool is_null() const noexcept;
  /// True for a text string (not for Autobahn's binary strings).
  bool is_string() const noexcept;
  /// True for an integer, signed or unsigned (not for a number with a fraction or exponent).
  bool is_number_integer() const noexcept;
  /// The text of a string; only when is_string().
  std::string_view get_string() const noexcept;
  /// An integer as `value::get<std::int64_t>()` gives it; only when is_number_integer().
  std::int64_t get_int64() const noexcept;
  /// The members named `keys` of an object, in one pass (the last one of duplicate keys, as
  /// `read_json` keeps); nullopt for each one absent, all nullopt when this is not an object.
  template <std::size_t N>
  std::array<std::optional<json_view>, N> members(const std::string_view (&keys)[N]) const {
    std::array<std::optional<json_view>, N> found;
    find_members(keys, found.data(), N);
    return found;
  }
  /// The value `read_json` gives for this part of the text: built from simdjson's DOM, or moved
  /// out where the text was read into values (then this part of the `parsed_json` is left
  /// null). Throws protocol_error (errc::malformed_message) when memory runs out.
  value take_value() const;

 private:
  void find_members(const std::string_view* keys, std::optional<json_view>* found,
                    std::size_t n) const noexcept;

#if WAMPBOX_SIMDJSON
  std::variant<simdjson::dom::element, value*> at_;
#else
  std::variant<value*> at_;
#endif
};

/// JSON text parsed as `read_json_padded` does it — the same acceptance, memory budget and
/// errors (protocol_error) — but kept as simdjson's DOM in the thread's reader, for `json_view`
/// access without building values. Wipes what the reader holds of the text when destroyed.
/// Why not the direct reader: building values for the parts that are only checked costs more
/// than simdjson's DOM.
/// At most one per thread at a time (it uses the thread's reader).
class parsed_json {
 public:
  /// Parses `text`, whose json_padding following bytes are readable.
  explicit parsed_json(std::string_view text);
  ~parsed_json();
  parsed_json(const parsed_json&) = delete;
  parsed_json& operator=(const parsed_json&) = delete;

  /// The top-level value.
  json_view root() noexcept;

 private:
#if WAMPBOX_SIMDJSON
  std::unique_ptr<json_parser> own_;  // a parser of its own for text above the reused one's limit
  json_parser* parser_ = nullptr;     // null when the reference reader took the text
  simdjson::dom::element root_;
#endif
  value value_;  // what the reference reader read, when simdjson refused the text
};

}  // namespace wampbox::wire::detail
