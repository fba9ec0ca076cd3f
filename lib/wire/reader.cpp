// read_json and deserialize: nlohmann's parsers behind a SAX handler that enforces the
// nesting limit, UTF-8 of binary formats' strings, Autobahn's JSON binary convention,
// and rejects MessagePack ext types. Only protocol_error escapes.
#include <new>
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
  checked_sax(value& root, input_format format) : dom_parser(root), format_(format) {}

  bool start_object(std::size_t len) {
    enter();
    return dom_parser::start_object(len);
  }
  bool end_object() {
    --depth_;
    return dom_parser::end_object();
  }
  bool start_array(std::size_t len) {
    enter();
    return dom_parser::start_array(len);
  }
  bool end_array() {
    --depth_;
    return dom_parser::end_array();
  }
  bool key(string_t& k) {
    check_utf8(k);
    return dom_parser::key(k);
  }
  bool string(string_t& s) {
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
  bool binary(binary_t& b) {
    if (b.has_subtype()) malformed(format_name() + ": extension types are not supported");
    return dom_parser::binary(b);
  }

 private:
  void enter() {
    if (++depth_ > detail::max_nesting) malformed(format_name() + ": value nested too deeply");
  }
  // nlohmann validates JSON text itself, but not MessagePack or CBOR strings.
  void check_utf8(const string_t& s) const {
    if (format_ != input_format::json && !detail::valid_utf8(s))
      malformed(format_name() + ": string is not valid UTF-8");
  }
  std::string format_name() const {
    switch (format_) {
      case input_format::msgpack:
        return "MessagePack";
      case input_format::cbor:
        return "CBOR";
      default:
        return "JSON";
    }
  }

  input_format format_;
  int depth_ = 0;
};

value parse(input_format format, std::string_view bytes) {
  value result;
  checked_sax sax(result, format);
  try {
    // strict = true: trailing bytes after the value are an error. CBOR tags are refused
    // by nlohmann's default tag handler.
    if (!value::sax_parse(bytes.data(), bytes.data() + bytes.size(), &sax, format, true))
      malformed("unparsable input");
  } catch (const value::exception& e) {
    malformed(e.what());
  } catch (const std::bad_alloc&) {
    malformed("value too large to hold in memory");
  }
  return result;
}

}  // namespace

value read_json(std::string_view text) {
  // nlohmann's lexer takes a raw NUL byte for the end of input and would ignore what follows;
  // valid JSON never contains one (inside strings it must be escaped).
  if (text.find('\0') != std::string_view::npos) malformed("JSON: raw NUL byte in the text");
  return parse(input_format::json, text);
}

value deserialize(serializer_kind s, std::string_view bytes) {
  switch (s) {
    case serializer_kind::json:
      return read_json(bytes);
    case serializer_kind::msgpack:
      return parse(input_format::msgpack, bytes);
    case serializer_kind::cbor:
      return parse(input_format::cbor, bytes);
  }
  malformed("unknown serializer");
}

}  // namespace wampbox::wire
