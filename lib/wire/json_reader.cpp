// read_json: simdjson's DOM parser validates the text (UTF-8, grammar, nesting), then one walk
// over its tape builds the value. Whatever simdjson refuses is handed to the reference reader
// (nlohmann's parser, reader.cpp), so acceptance, values and error reasons stay what they were:
// simdjson refuses a few inputs nlohmann accepts (integers beyond 64 bits, which nlohmann reads
// as doubles; a leading UTF-8 BOM) and accepts nothing that nlohmann refuses.
#include <simdjson.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "internal.hpp"

namespace wampbox::wire {
namespace {

static_assert(json_padding >= simdjson::SIMDJSON_PADDING);

/// Inputs up to this size use the thread's reused parser; larger ones get a parser of their
/// own. Why: simdjson's buffers are about 13 times the input, and a reused parser keeps them.
constexpr std::size_t reused_parser_limit = std::size_t{1} << 20;

// Autobahn: a string starting with U+0000 carries Base64 binary.
value string_value(std::string_view s) {
  if (s.empty() || s.front() != '\0') return value(std::string(s));
  auto decoded = detail::decode_base64(s.substr(1));
  if (!decoded) {
    throw protocol_error(errc::malformed_message,
                         "JSON: invalid Base64 after \\u0000 in a binary string");
  }
  return value::binary(std::move(*decoded));
}

/// Builds a value from simdjson's DOM within `budget`, which the caller charged for the value
/// itself. Recursion is bounded: the parser allows max_nesting.
value build(simdjson::dom::element e, detail::memory_budget& budget) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array items = e.get_array().value_unsafe();
      budget.add_block(items.size() * sizeof(value));  // reserved at once, before any item
      value result = value::array();
      auto& out = result.get_ref<value::array_t&>();
      out.reserve(items.size());
      for (simdjson::dom::element item : items) out.push_back(build(item, budget));
      return result;
    }
    case simdjson::dom::element_type::OBJECT: {
      budget.add_block();
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      value result = value::object();
      auto& out = result.get_ref<value::object_t&>();
      for (simdjson::dom::key_value_pair field : fields) {
        // The last of duplicate keys wins, as with nlohmann's parser.
        budget.add_member(field.key.size());
        budget.add_value();
        out.insert_or_assign(std::string(field.key), build(field.value, budget));
      }
      return result;
    }
    case simdjson::dom::element_type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      budget.add_block(s.size());  // a binary is smaller than its Base64
      return string_value(s);
    }
    case simdjson::dom::element_type::INT64: {
      // nlohmann stores non-negative integers as unsigned; keep the same storage types.
      const std::int64_t i = e.get_int64().value_unsafe();
      if (i >= 0) return value(static_cast<std::uint64_t>(i));
      return value(i);
    }
    case simdjson::dom::element_type::UINT64: return value(e.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE: return value(e.get_double().value_unsafe());
    case simdjson::dom::element_type::BOOL: return value(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::NULL_VALUE: break;
  }
  return value();
}

/// A simdjson parser with the document it fills, allocated for the nesting limit.
struct json_parser {
  simdjson::dom::parser parser;
  simdjson::dom::document doc;

  /// Makes room for `size` bytes of text; false when that cannot be allocated.
  bool reserve(std::size_t size) {
    if (parser.capacity() >= size && parser.max_depth() == detail::max_nesting) return true;
    return parser.allocate(std::max(size, std::size_t{4096}), detail::max_nesting) ==
           simdjson::SUCCESS;
  }

  /// Wipes what the document holds of the last text, a valid one: its tape and its strings.
  /// Walks the tape (format: simdjson's doc/tape.md) for the end of the last string.
  void wipe_parsed() noexcept {
    std::uint64_t* tape = doc.tape.get();
    const std::uint64_t last = tape[0] & simdjson::internal::JSON_VALUE_MASK;  // root entry
    std::size_t strings_end = 0;
    for (std::uint64_t i = 1; i < last; ++i) {
      const auto type = static_cast<char>(tape[i] >> 56);
      if (type == 'l' || type == 'u' || type == 'd') {
        ++i;  // the number itself is the next word
      } else if (type == '"') {
        const std::size_t at = tape[i] & simdjson::internal::JSON_VALUE_MASK;
        std::uint32_t length;
        std::memcpy(&length, doc.string_buf.get() + at, sizeof length);
        strings_end = std::max(strings_end, at + sizeof length + length + 1);  // + NUL
      }
    }
    sodium_memzero(doc.string_buf.get(), strings_end);
    sodium_memzero(tape, (last + 1) * sizeof(std::uint64_t));
  }

  /// Wipes what the document may hold of a refused text of `size` bytes, whose tape may be
  /// partial: as much as simdjson's document::allocate reserves for that size.
  void wipe_refused(std::size_t size) noexcept {
    if (doc.capacity() < size) return;  // its allocation failed: nothing was written
    sodium_memzero(doc.string_buf.get(), 5 * size / 3 + simdjson::SIMDJSON_PADDING);
    sodium_memzero(doc.tape.get(), (size + 3) * sizeof(std::uint64_t));
  }
};

/// The thread's reused parser, and a padded copy of input that came without padding.
struct thread_reader {
  json_parser parser;
  std::vector<char> copy;
};

thread_reader& this_thread_reader() {
  thread_local thread_reader reader;
  return reader;
}

/// Parses `text`, whose json_padding following bytes are readable. Anything simdjson refuses
/// goes to the reference reader. `wipe`: leave nothing of the text in the parser's buffers.
value parse_padded(std::string_view text, json_parser& p, bool wipe) {
  if (!p.reserve(text.size())) return detail::read_json_reference(text);
  simdjson::dom::element root;
  if (p.parser.parse_into_document(p.doc, text.data(), text.size(), false).get(root) !=
      simdjson::SUCCESS) {
    if (wipe) p.wipe_refused(text.size());
    return detail::read_json_reference(text);
  }
  try {
    detail::memory_budget budget("JSON", text.size());
    budget.add_value();
    value result = build(root, budget);
    if (wipe) p.wipe_parsed();
    return result;
  } catch (...) {
    if (wipe) p.wipe_parsed();
    throw;
  }
}

/// parse_padded with the thread's parser, or a parser of its own for large text.
value parse_padded(std::string_view text, bool wipe) {
  if (text.size() <= reused_parser_limit)
    return parse_padded(text, this_thread_reader().parser, wipe);
  json_parser own;
  return parse_padded(text, own, wipe);
}

}  // namespace

value read_json(std::string_view text) {
  return detail::malformed_on_bad_alloc([&] {
    std::vector<char> large_copy;
    std::vector<char>& copy =
        text.size() <= reused_parser_limit ? this_thread_reader().copy : large_copy;
    if (copy.size() < text.size() + json_padding) copy.resize(text.size() + json_padding);
    std::memcpy(copy.data(), text.data(), text.size());
    return parse_padded(std::string_view(copy.data(), text.size()), false);
  });
}

value read_json_padded(std::string_view text) {
  return detail::malformed_on_bad_alloc([&] { return parse_padded(text, true); });
}

}  // namespace wampbox::wire
