// The direct JSON reader (json_direct_reader.hpp says what it reads and why).
#include "json_direct_reader.hpp"

#include <charconv>

namespace wampbox::wire::detail {

static_assert(direct_json_limit * 32 <= min_memory_budget,
              "a text the direct reader takes must stay below the memory budget uncharged");

std::optional<std::size_t> direct_json_reader::read_all_items(std::span<value> items) {
  skip_space();
  if (p_ == end_ || *p_ != '[') return std::nullopt;
  ++p_;
  std::size_t count = 0;
  if (!read_list(']', [&] { return count < items.size() && read(items[count++], 1); }))
    return std::nullopt;
  if (!at_end()) return std::nullopt;
  return count;
}

bool direct_json_reader::skip_string_text() noexcept {
  while (true) {
    p_ = skip_plain_json(p_, end_);
    if (p_ == end_) return false;
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"' || c == '\\') return true;
    if (c < 0x20) return false;  // a raw control character: invalid JSON
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_),
                                                 reinterpret_cast<const unsigned char*>(end_));
      if (n == 0) return false;
      p_ += n;
    } else {
      ++p_;
    }
  }
}

bool direct_json_reader::read_plain_string(std::string_view& out) noexcept {
  skip_space();
  if (p_ == end_ || *p_ != '"') return false;
  const char* begin = ++p_;
  if (!skip_string_text() || *p_ != '"') return false;  // the end, or an escape
  out = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
  ++p_;
  return true;
}

bool direct_json_reader::read(value& out, int depth) {
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

bool direct_json_reader::read_array(value& out, int depth) {
  if (++depth > max_nesting) return false;
  ++p_;
  out = value::array();
  auto& items = out.get_ref<value::array_t&>();
  return read_list(']', [&] { return read(items.emplace_back(), depth); });
}

bool direct_json_reader::read_object(value& out, int depth) {
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

bool direct_json_reader::read_string_value(value& out) {
  ++p_;
  constexpr std::string_view binary_mark = "\\u0000";
  if (static_cast<std::size_t>(end_ - p_) >= binary_mark.size() &&
      std::memcmp(p_, binary_mark.data(), binary_mark.size()) == 0) {
    const char* begin = p_ + binary_mark.size();
    const void* quote = std::memchr(begin, '"', static_cast<std::size_t>(end_ - begin));
    if (quote == nullptr) return false;
    const char* close = static_cast<const char*>(quote);
    auto decoded = decode_base64(std::string_view(begin, static_cast<std::size_t>(close - begin)));
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

bool direct_json_reader::read_string(std::string& out) {
  while (true) {
    const char* run = p_;
    if (!skip_string_text()) return false;
    out.append(run, static_cast<std::size_t>(p_ - run));
    if (*p_ == '"') {
      ++p_;
      return true;
    }
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
  }
}

namespace {
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
}  // namespace

/// Digits from p_ on; false when there is none.
bool direct_json_reader::take_digits() noexcept {
  const char* start = p_;
  while (p_ != end_ && is_digit(*p_)) ++p_;
  return p_ != start;
}

/// An integer without fraction or exponent as unsigned when not negative, else signed; any other
/// number as the nearest double.
bool direct_json_reader::read_number(value& out) {
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

std::optional<std::size_t> read_json_direct_items(std::string_view text, std::span<value> items) {
  if (text.size() > direct_json_limit) return std::nullopt;
  return direct_json_reader(text).read_all_items(items);
}

std::optional<value> read_json_direct(std::string_view text) {
  if (text.size() > direct_json_limit) return std::nullopt;
  value result;
  if (!direct_json_reader(text).read_all(result)) return std::nullopt;
  return result;
}

}  // namespace wampbox::wire::detail
