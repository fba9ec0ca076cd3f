// The direct JSON reader: one pass over the text straight into values, for the JSON that WAMP
// peers send (objects, arrays, strings with the short escapes, Autobahn's "\u0000" binary
// strings, integers of up to 18 digits, decimal numbers, literals). At the first thing outside
// that subset — a \uXXXX escape, a long or negative-zero integer, an error of any kind — it
// declines, and read_json reads the text the full way (simdjson, or nlohmann's parser), which
// gives the same value for the subset and the error for the rest. Why: building the values
// while scanning takes one pass where simdjson takes three (its index, its tape, our values),
// and an Autobahn binary string is decoded once, straight from the text.
#include <charconv>
#include <cstring>
#include <optional>
#include <span>

#include "internal.hpp"

namespace wampbox::wire::detail {
namespace {

static_assert(direct_json_limit * 32 <= min_memory_budget,
              "a text the direct reader takes must stay below the memory budget uncharged");

class direct_reader {
 public:
  explicit direct_reader(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  /// The text's one value, or false when the text is outside the subset.
  bool read_all(value& out) {
    if (!read(out, 0)) return false;
    return at_end();
  }

  /// The elements of the text's one value, an array of at most `items.size()` elements, into
  /// `items`; nullopt when the text is outside the subset or holds anything else.
  std::optional<std::size_t> read_all_items(std::span<value> items) {
    skip_space();
    if (p_ == end_ || *p_ != '[') return std::nullopt;
    ++p_;
    std::size_t count = 0;
    if (!read_list(']', [&] { return count < items.size() && read(items[count++], 1); }))
      return std::nullopt;
    if (!at_end()) return std::nullopt;
    return count;
  }

 private:
  /// True when nothing but white space is left.
  bool at_end() noexcept {
    skip_space();
    return p_ == end_;
  }

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

  /// `depth`: containers around the value.
  bool read(value& out, int depth) {
    skip_space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return read_object(out, depth);
      case '[': return read_array(out, depth);
      case '"': return read_string_value(out);
      case 't': return take_word("true") && (out = true, true);
      case 'f': return take_word("false") && (out = false, true);
      case 'n': return take_word("null") && (out = nullptr, true);
      default: return read_number(out);
    }
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

  bool read_array(value& out, int depth) {
    if (++depth > max_nesting) return false;
    ++p_;
    out = value::array();
    auto& items = out.get_ref<value::array_t&>();
    return read_list(']', [&] { return read(items.emplace_back(), depth); });
  }

  bool read_object(value& out, int depth) {
    if (++depth > max_nesting) return false;
    ++p_;
    out = value::object();
    auto& fields = out.get_ref<value::object_t&>();
    std::string key;
    return read_list('}', [&] {
      skip_space();
      if (p_ == end_ || *p_ != '"') return false;
      ++p_;
      key.clear();
      if (!read_string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_++ != ':') return false;
      value member;
      if (!read(member, depth)) return false;
      fields.insert_or_assign(key, std::move(member));  // the last of duplicate keys wins
      return true;
    });
  }

  /// A string, or Autobahn's binary: "\u0000" followed by standard Base64.
  bool read_string_value(value& out) {
    ++p_;
    constexpr std::string_view binary_mark = "\\u0000";
    if (static_cast<std::size_t>(end_ - p_) >= binary_mark.size() &&
        std::memcmp(p_, binary_mark.data(), binary_mark.size()) == 0) {
      const char* begin = p_ + binary_mark.size();
      const void* quote = std::memchr(begin, '"', static_cast<std::size_t>(end_ - begin));
      if (quote == nullptr) return false;
      const char* close = static_cast<const char*>(quote);
      auto decoded =
          decode_base64(std::string_view(begin, static_cast<std::size_t>(close - begin)));
      if (!decoded) return false;
      p_ = close + 1;
      out = value::binary(std::move(*decoded));
      return true;
    }
    std::string s;
    if (!read_string(s)) return false;
    out = std::move(s);
    return true;
  }

  /// The rest of a string after its opening quote, unescaped, appended to `out`.
  bool read_string(std::string& out) {
    const char* run = p_;  // start of the bytes not yet copied
    while (true) {
      p_ = skip_plain_json(p_, end_);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.append(run, static_cast<std::size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c == '\\') {
        out.append(run, static_cast<std::size_t>(p_ - run));
        if (end_ - p_ < 2) return false;
        switch (p_[1]) {
          case '"': out.push_back('"'); break;
          case '\\': out.push_back('\\'); break;
          case '/': out.push_back('/'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          default: return false;  // \uXXXX (surrogate pairs, U+0000): the full reader's
        }
        p_ += 2;
        run = p_;
      } else if (c < 0x20) {
        return false;  // a raw control character: invalid JSON
      } else if (c >= 0x80) {
        const std::size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_),
                                                   reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return false;
        p_ += n;
      } else {
        ++p_;
      }
    }
  }

  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  /// Digits from p_ on; false when there is none.
  bool take_digits() noexcept {
    const char* start = p_;
    while (p_ != end_ && is_digit(*p_)) ++p_;
    return p_ != start;
  }

  /// A number as the full reader gives it: an integer without fraction or exponent as unsigned
  /// when not negative, else signed; any other number as the nearest double.
  bool read_number(value& out) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    const char* digits = p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      take_digits();
    }
    const std::size_t integer_digits = static_cast<std::size_t>(p_ - digits);
    bool decimal = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!take_digits()) return false;
      decimal = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!take_digits()) return false;
      decimal = true;
    }
    if (decimal) {
      double d;
      const auto [end, ec] = std::from_chars(start, p_, d);
      if (ec != std::errc() || end != p_) return false;  // out of range: the full reader's
      out = d;
      return true;
    }
    // Up to 18 digits always fit; longer ones, and "-0", are left to the full reader.
    if (integer_digits > 18 || (negative && *digits == '0')) return false;
    std::uint64_t magnitude = 0;
    for (const char* d = digits; d != p_; ++d)
      magnitude = magnitude * 10 + static_cast<std::uint64_t>(*d - '0');
    if (negative) {
      out = -static_cast<std::int64_t>(magnitude);
    } else {
      out = magnitude;
    }
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<std::size_t> read_json_direct_items(std::string_view text, std::span<value> items) {
  if (text.size() > direct_json_limit) return std::nullopt;
  return direct_reader(text).read_all_items(items);
}

std::optional<value> read_json_direct(std::string_view text) {
  if (text.size() > direct_json_limit) return std::nullopt;
  value result;
  if (!direct_reader(text).read_all(result)) return std::nullopt;
  return result;
}

}  // namespace wampbox::wire::detail
