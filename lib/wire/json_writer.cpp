// write_json: compact JSON byte-identical to Autobahn|Python's
// json.dumps(v, separators=(',', ':'), ensure_ascii=False).
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "internal.hpp"

namespace wampbox::wire {
namespace {

// Class of each byte inside a JSON string: copied as is, escaped, or the lead of a
// multi-byte UTF-8 sequence that must be validated.
enum class byte_class : std::uint8_t { plain, escape, non_ascii };

constexpr std::array<byte_class, 256> make_byte_classes() {
  std::array<byte_class, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = c < 0x20 || c == '"' || c == '\\' ? byte_class::escape
           : c >= 0x80                       ? byte_class::non_ascii
                                             : byte_class::plain;
  return t;
}
constexpr auto byte_classes = make_byte_classes();

void append_escape(unsigned char c, std::string& out) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: {
      static constexpr char hex[] = "0123456789abcdef";  // Python writes lowercase hex
      const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
      out.append(esc, 6);
    }
  }
}

void append_string(std::string_view s, std::string& out) {
  out.push_back('"');
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  const auto end = p + s.size();
  auto run = p;  // start of the bytes not yet copied
  while (p != end) {
    p = reinterpret_cast<const unsigned char*>(detail::skip_plain_json(
        reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(end)));
    if (p == end) break;
    switch (byte_classes[*p]) {
      case byte_class::plain: ++p; break;
      case byte_class::non_ascii: {
        const std::size_t n = detail::utf8_sequence_length(p, end);
        if (n == 0) throw protocol_error(errc::invalid_message, "JSON: string is not valid UTF-8");
        p += n;
        break;
      }
      case byte_class::escape:
        out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
        append_escape(*p, out);
        run = ++p;
        break;
    }
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
  out.push_back('"');
}

// Python's float repr: shortest round-trip digits; exponent form when the decimal exponent
// is < -4 or >= 16, else positional with at least one fractional digit ("3.0").
void append_double(double d, std::string& out) {
  if (!std::isfinite(d))
    throw protocol_error(errc::invalid_message, "JSON: cannot carry NaN or infinity");
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr;
  const std::string_view sci(buf, static_cast<std::size_t>(end - buf));  // [-]d[.ddd]e±XX
  const std::size_t e_pos = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exponent);
  if (exponent < -4 || exponent >= 16) {
    out.append(sci);  // to_chars' scientific form equals Python's ("1e+16", "1.5e-07")
    return;
  }
  std::string_view mantissa = sci.substr(0, e_pos);
  if (mantissa.front() == '-') {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  char digits[20];  // at most 17 significant digits
  std::size_t n = 0;
  for (char c : mantissa)
    if (c != '.') digits[n++] = c;
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out.append(digits, n);
  } else if (static_cast<std::size_t>(point) >= n) {
    out.append(digits, n);
    out.append(static_cast<std::size_t>(point) - n, '0');
    out += ".0";
  } else {
    out.append(digits, static_cast<std::size_t>(point));
    out.push_back('.');
    out.append(digits + point, n - static_cast<std::size_t>(point));
  }
}

template <typename Integer>
void append_integer(Integer i, std::string& out) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, i).ptr;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// Autobahn's binary convention: "\u0000" + Base64, the NUL as the 6-byte escape.
void append_binary(const value::binary_t& b, std::string& out) {
  out += "\"\\u0000";
  detail::append_base64(b.data(), b.size(), out);
  out.push_back('"');
}

void append_value(const value& v, std::string& out, int depth) {
  switch (v.type()) {
    case value::value_t::null: out += "null"; return;
    case value::value_t::boolean:
      out += v.get_ref<const value::boolean_t&>() ? "true" : "false";
      return;
    case value::value_t::number_integer: append_integer(v.get<std::int64_t>(), out); return;
    case value::value_t::number_unsigned: append_integer(v.get<std::uint64_t>(), out); return;
    case value::value_t::number_float: append_double(v.get<double>(), out); return;
    case value::value_t::string: {
      const auto& text = v.get_ref<const value::string_t&>();
      if (!text.empty() && text.front() == '\0') {
        // Autobahn's convention reads it back as binary (or refuses it): no JSON carries it.
        throw protocol_error(
            errc::invalid_message,
            "JSON: a string that begins with U+0000 cannot be carried (it would be "
            "read as binary); send it as binary, or use MessagePack or CBOR");
      }
      append_string(text, out);
      return;
    }
    case value::value_t::binary: append_binary(v.get_binary(), out); return;
    case value::value_t::array:
    case value::value_t::object: {
      if (++depth > detail::max_nesting)
        throw protocol_error(errc::invalid_message, "JSON: value nested too deeply");
      const bool is_object = v.is_object();
      out.push_back(is_object ? '{' : '[');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        if (is_object) {
          append_string(it.key(), out);
          out.push_back(':');
        }
        append_value(*it, out, depth);
      }
      out.push_back(is_object ? '}' : ']');
      return;
    }
    case value::value_t::discarded: break;
  }
  throw protocol_error(errc::invalid_message, "JSON: cannot write a discarded value");
}

}  // namespace

void write_json(const value& v, std::string& out) {
  const std::size_t old_size = out.size();
  try {
    append_value(v, out, 0);
  } catch (...) {
    out.resize(old_size);  // leave no half-written value behind
    throw;
  }
}

}  // namespace wampbox::wire
