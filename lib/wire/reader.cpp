// deserialize, and the readers built on nlohmann's parsers (CBOR, and the JSON reference
// reader): a SAX handler enforces the nesting limit, UTF-8 of CBOR strings and Autobahn's JSON
// binary convention. MessagePack has its own reader (msgpack_reader.cpp), JSON its fast one
// (json_reader.cpp). Only protocol_error escapes.
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "internal.hpp"

namespace wampbox::wire {
namespace {

using input_format = nlohmann::detail::input_format_t;
using dom_parser = nlohmann::detail::json_sax_dom_parser<value>;

[[noreturn]] void malformed(const std::string& reason) {
  throw protocol_error(errc::malformed_message, reason);
}

// Builds the DOM like nlohmann's own parser; the overrides hide (not override) the base
// members, which works because nlohmann's readers are templates on the handler type.
class checked_sax : public dom_parser {
 public:
  checked_sax(value& root, input_format format, std::size_t size)
      : dom_parser(root), format_(format), budget_(format_name(format), size) {}

  bool null() {
    budget_.add_value();
    return dom_parser::null();
  }
  bool boolean(bool b) {
    budget_.add_value();
    return dom_parser::boolean(b);
  }
  bool number_integer(number_integer_t i) {
    budget_.add_value();
    return dom_parser::number_integer(i);
  }
  bool number_unsigned(number_unsigned_t u) {
    budget_.add_value();
    return dom_parser::number_unsigned(u);
  }
  bool number_float(number_float_t f, const string_t& text) {
    budget_.add_value();
    return dom_parser::number_float(f, text);
  }
  bool binary(binary_t& b) {
    charge_block(b.size());
    return dom_parser::binary(b);
  }
  bool start_object(std::size_t len) {
    enter();
    charge_block(0);
    return dom_parser::start_object(len);
  }
  bool end_object() {
    --depth_;
    return dom_parser::end_object();
  }
  bool start_array(std::size_t len) {
    enter();
    charge_block(0);
    return dom_parser::start_array(len);
  }
  bool end_array() {
    --depth_;
    return dom_parser::end_array();
  }
  bool key(string_t& k) {
    check_utf8(k);
    budget_.add_member(k.size());
    return dom_parser::key(k);
  }
  bool string(string_t& s) {
    charge_block(s.size());
    if (format_ == input_format::json) {
      // Autobahn: a string starting with U+0000 carries Base64 binary.
      if (!s.empty() && s.front() == '\0') {
        auto decoded = detail::decode_base64(std::string_view(s).substr(1));
        if (!decoded) malformed("JSON: invalid Base64 after \\u0000 in a binary string");
        binary_t b(std::move(*decoded));
        return dom_parser::binary(b);
      }
    } else {
      check_utf8(s);
    }
    return dom_parser::string(s);
  }

 private:
  void enter() {
    if (++depth_ > detail::max_nesting)
      malformed(std::string(format_name(format_)) + ": value nested too deeply");
  }
  void charge_block(std::size_t size) {
    budget_.add_value();
    budget_.add_block(size);
  }
  // nlohmann validates JSON text itself, but not CBOR strings.
  void check_utf8(const string_t& s) const {
    if (format_ != input_format::json && !detail::valid_utf8(s))
      malformed(std::string(format_name(format_)) + ": string is not valid UTF-8");
  }
  static const char* format_name(input_format f) {
    return f == input_format::cbor ? "CBOR" : "JSON";
  }

  input_format format_;
  detail::memory_budget budget_;
  int depth_ = 0;
};

value parse(input_format format, std::string_view bytes) {
  value result;
  checked_sax sax(result, format, bytes.size());
  try {
    // strict = true: trailing bytes after the value are an error. CBOR tags are refused
    // by nlohmann's default tag handler.
    if (!value::sax_parse(bytes.data(), bytes.data() + bytes.size(), &sax, format, true))
      malformed("unparsable input");
  } catch (const value::exception& e) {
    malformed(e.what());
  }
  return result;
}

}  // namespace

namespace detail {

value read_json_reference(std::string_view text) {
  // nlohmann's lexer takes a raw NUL byte for the end of input and would ignore what follows;
  // valid JSON never contains one (inside strings it must be escaped).
  if (text.find('\0') != std::string_view::npos) malformed("JSON: raw NUL byte in the text");
  return malformed_on_bad_alloc([&] { return parse(input_format::json, text); });
}

}  // namespace detail

value deserialize(serializer_kind s, std::string_view bytes) {
  switch (s) {
    case serializer_kind::json: return read_json(bytes);
    case serializer_kind::msgpack: return detail::read_msgpack(bytes);
    case serializer_kind::cbor:
      return detail::malformed_on_bad_alloc([&] { return parse(input_format::cbor, bytes); });
  }
  malformed("unknown serializer");
}

}  // namespace wampbox::wire
