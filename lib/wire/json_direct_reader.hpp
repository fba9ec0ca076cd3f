// wampbox — the direct JSON reader (internal): one pass over the text straight into values, for
// the JSON that WAMP peers send (objects, arrays, strings with the short escapes, Autobahn's
// "\u0000" binary strings, integers of up to 18 digits, decimal numbers, literals). At the first
// thing outside that subset — a \uXXXX escape, a long or negative-zero integer, an error of any
// kind — it declines (returns false), and the caller reads the text the full way (simdjson, or
// nlohmann's parser), which gives the same value for the subset and the error for the rest.
// Why: building the values while scanning takes one pass where simdjson takes three (its index,
// its tape, our values), and an Autobahn binary string is decoded once, straight from the text.
#pragma once

#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "internal.hpp"

namespace wampbox::wire::detail {

/// A reader over one JSON text, used either whole (read_all, read_all_items) or step by step by
/// a caller that knows the shape it expects (read_members, read_plain_string, read_value,
/// at_end), which reads only the parts it needs as values. Every function returns false at the
/// first thing outside the subset; the reader is then spent. Texts above direct_json_limit are
/// for the full reader (they could exceed the memory budget, which this reader does not charge).
class direct_json_reader {
 public:
  explicit direct_json_reader(std::string_view text) noexcept
      : p_(text.data()), end_(text.data() + text.size()) {}

  /// The text's one value, or false when the text is outside the subset.
  bool read_all(value& out) { return read(out, 0) && at_end(); }

  /// The elements of the text's one value, an array of at most `items.size()` elements, into
  /// `items`; nullopt when the text is outside the subset or holds anything else.
  std::optional<std::size_t> read_all_items(std::span<value> items);

  /// The next value, an object: for each member, `on_member(key)` is called with the reader at
  /// the member's value, which it must read (read_value, read_plain_string, read_members) and
  /// return true. Keys with escapes are outside the subset. Duplicate keys are passed on as
  /// they come: read_json keeps the last one.
  template <typename OnMember>
  bool read_members(OnMember on_member) {
    skip_space();
    if (p_ == end_ || *p_ != '{' || ++depth_ > max_nesting) return false;
    ++p_;
    const bool read = read_list('}', [&] {
      skip_space();
      std::string_view key;
      if (p_ == end_ || *p_ != '"' || !read_plain_string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_++ != ':') return false;
      return on_member(key);
    });
    --depth_;
    return read;
  }

  /// The next value, a text string without escapes, as it lies in the text.
  bool read_plain_string(std::string_view& out) noexcept;

  /// The next value, as read_json gives it.
  bool read_value(value& out) { return read(out, depth_); }

  /// True when nothing but white space is left.
  bool at_end() noexcept {
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  /// Takes `word` ("true", "false", "null") when the text continues with it.
  bool take_word(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  /// The rest of a list (an array's elements or an object's members) after its opening
  /// bracket, up to `close`: `read_one` reads each item, false when it cannot.
  template <typename ReadOne>
  bool read_list(char close, ReadOne read_one) {
    skip_space();
    if (p_ != end_ && *p_ == close) {
      ++p_;
      return true;
    }
    while (true) {
      if (!read_one()) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_++ == close) return true;
      if (p_[-1] != ',') return false;
    }
  }

  /// `depth`: containers around the value.
  bool read(value& out, int depth);
  bool read_array(value& out, int depth);
  bool read_object(value& out, int depth);
  /// A string, or Autobahn's binary: "\u0000" followed by standard Base64.
  bool read_string_value(value& out);
  /// The rest of a string after its opening quote, unescaped, appended to `out`.
  bool read_string(std::string& out);
  /// Moves over a string's characters up to its closing quote or its next escape; false at a
  /// control character, ill-formed UTF-8 or the end of the text.
  bool skip_string_text() noexcept;
  bool take_digits() noexcept;
  /// A number as the full reader gives it.
  bool read_number(value& out);

  const char* p_;
  const char* end_;
  int depth_ = 0;  // objects read_members is inside
};

}  // namespace wampbox::wire::detail
