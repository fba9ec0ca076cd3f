// read_json: the direct reader (json_direct_reader.cpp) reads the common subset in one pass; the
// rest goes the full way (read_json_full). There, simdjson's DOM parser validates the text (UTF-8,
// grammar, nesting), one walk over its tape charges the memory budget and checks binary strings, a
// second builds the value (parsed_json, json_view.hpp: only the parts asked for). Whatever simdjson
// refuses is handed to the reference reader (nlohmann's parser, reader.cpp), so acceptance, values
// and error reasons stay what they were: simdjson refuses a few inputs nlohmann accepts (integers
// beyond 64 bits, which nlohmann reads as doubles; a leading UTF-8 BOM) and accepts nothing that
// nlohmann refuses.
#include "json_view.hpp"  // first: it checks WAMPBOX_SIMDJSON and includes simdjson.h

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "internal.hpp"

namespace wampbox::wire {
#if WAMPBOX_SIMDJSON
namespace {

static_assert(json_padding >= simdjson::SIMDJSON_PADDING);

/// Inputs up to this size use the thread's reused parser; larger ones get a parser of their
/// own. Why: simdjson's buffers are about 13 times the input, and a reused parser keeps them.
constexpr std::size_t reused_parser_limit = std::size_t{1} << 20;

[[noreturn]] void invalid_binary() {
  throw protocol_error(errc::malformed_message,
                       "JSON: invalid Base64 after \\u0000 in a binary string");
}

// Autobahn: a string starting with U+0000 carries Base64 binary.
value string_value(std::string_view s) {
  if (s.empty() || s.front() != '\0') return value(std::string(s));
  auto decoded = detail::decode_base64(s.substr(1));
  if (!decoded) invalid_binary();
  return value::binary(std::move(*decoded));
}

/// Charges `budget` for what build() allocates for `e`, which the caller charged for the value
/// itself, and checks what build() would refuse (Autobahn binary strings that are not Base64),
/// allocating nothing: a text over the budget is refused before any value is built.
/// Recursion is bounded: the parser allows max_nesting.
void charge(simdjson::dom::element e, detail::memory_budget& budget) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array items = e.get_array().value_unsafe();
      budget.add_block(items.size() * sizeof(value));  // reserved at once, before any item
      for (simdjson::dom::element item : items) charge(item, budget);
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      budget.add_block();
      // Named: a range-for over the temporary trips GCC 12's -Wdangling-pointer.
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : fields) {
        budget.add_member(field.key.size());
        budget.add_value();
        charge(field.value, budget);
      }
      return;
    }
    case simdjson::dom::element_type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      budget.add_block(s.size());  // a binary is smaller than its Base64
      if (!s.empty() && s.front() == '\0' && !detail::decode_base64(s.substr(1))) invalid_binary();
      return;
    }
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
    case simdjson::dom::element_type::BOOL:
    case simdjson::dom::element_type::NULL_VALUE: return;  // held in the value itself
  }
}

/// Builds a value from simdjson's DOM; charge() checked it and its memory first.
value build(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array items = e.get_array().value_unsafe();
      value result = value::array();
      auto& out = result.get_ref<value::array_t&>();
      out.reserve(items.size());
      for (simdjson::dom::element item : items) out.push_back(build(item));
      return result;
    }
    case simdjson::dom::element_type::OBJECT: {
      value result = value::object();
      auto& out = result.get_ref<value::object_t&>();
      // The last of duplicate keys wins, as with nlohmann's parser.
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : fields)
        out.insert_or_assign(std::string(field.key), build(field.value));
      return result;
    }
    case simdjson::dom::element_type::STRING: return string_value(e.get_string().value_unsafe());
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

/// Charges a whole text's root for its memory and checks it (see charge()).
void check(simdjson::dom::element root, std::size_t text_size) {
  detail::memory_budget budget("JSON", text_size);
  budget.add_value();
  charge(root, budget);
}

}  // namespace

namespace detail {

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

}  // namespace detail

namespace {

using detail::json_parser;

/// The thread's reused parser, and a padded copy of input that came without padding.
struct thread_reader {
  json_parser parser;
  std::vector<char> copy;
};

thread_reader& this_thread_reader() {
  thread_local thread_reader reader;
  return reader;
}

/// The thread's parser, or for large text a parser of its own made in `own`.
json_parser& parser_for(std::size_t size, std::unique_ptr<json_parser>& own) {
  if (size <= reused_parser_limit) return this_thread_reader().parser;
  own = std::make_unique<json_parser>();
  return *own;
}

/// Parses `text`, whose json_padding following bytes are readable, into `p`; false when
/// simdjson refuses it (then the reference reader must read it). `wipe`: leave nothing of a
/// refused text in the parser's buffers.
bool parse_into(json_parser& p, std::string_view text, simdjson::dom::element& root, bool wipe) {
  if (!p.reserve(text.size())) return false;
  if (p.parser.parse_into_document(p.doc, text.data(), text.size(), false).get(root) ==
      simdjson::SUCCESS)
    return true;
  if (wipe) p.wipe_refused(text.size());
  return false;
}

/// Reads `text` (padded) into a value. Anything simdjson refuses goes to the reference reader.
/// `wipe`: leave nothing of the text in the parser's buffers.
value parse_padded(std::string_view text, bool wipe) {
  std::unique_ptr<json_parser> own;
  json_parser& p = parser_for(text.size(), own);
  simdjson::dom::element root;
  if (!parse_into(p, text, root, wipe)) return detail::read_json_reference(text);
  try {
    check(root, text.size());
    value result = build(root);
    if (wipe) p.wipe_parsed();
    return result;
  } catch (...) {
    if (wipe) p.wipe_parsed();
    throw;
  }
}

}  // namespace

value detail::read_json_full(std::string_view text) {
  return malformed_on_bad_alloc([&] {
    std::vector<char> large_copy;
    std::vector<char>& copy =
        text.size() <= reused_parser_limit ? this_thread_reader().copy : large_copy;
    if (copy.size() < text.size() + json_padding) copy.resize(text.size() + json_padding);
    std::memcpy(copy.data(), text.data(), text.size());
    return parse_padded(std::string_view(copy.data(), text.size()), false);
  });
}

value read_json(std::string_view text) {
  return detail::malformed_on_bad_alloc([&] {
    if (auto direct = detail::read_json_direct(text)) return std::move(*direct);
    return detail::read_json_full(text);
  });
}

value read_json_padded(std::string_view text) {
  return detail::malformed_on_bad_alloc([&] {
    if (auto direct = detail::read_json_direct(text)) return std::move(*direct);
    return parse_padded(text, true);
  });
}

namespace detail {

parsed_json::parsed_json(std::string_view text) {
  json_parser* parsed = nullptr;  // holds the text once simdjson took it
  try {
    value_ = malformed_on_bad_alloc([&] {
      json_parser& p = parser_for(text.size(), own_);
      if (!parse_into(p, text, root_, true)) return read_json_reference(text);
      parsed = &p;
      check(root_, text.size());
      return value();
    });
  } catch (...) {
    if (parsed != nullptr) parsed->wipe_parsed();
    throw;
  }
  parser_ = parsed;
}

parsed_json::~parsed_json() {
  if (parser_ != nullptr) parser_->wipe_parsed();
}

json_view parsed_json::root() noexcept {
  return parser_ != nullptr ? json_view(root_) : json_view(value_);
}

}  // namespace detail

#else  // without simdjson: the reference reader reads what the direct reader declines

value detail::read_json_full(std::string_view text) { return read_json_reference(text); }

value read_json(std::string_view text) {
  return detail::malformed_on_bad_alloc([&] {
    if (auto direct = detail::read_json_direct(text)) return std::move(*direct);
    return detail::read_json_full(text);
  });
}

value read_json_padded(std::string_view text) { return read_json(text); }

namespace detail {

parsed_json::parsed_json(std::string_view text) : value_(read_json(text)) {}

parsed_json::~parsed_json() = default;

json_view parsed_json::root() noexcept { return json_view(value_); }

}  // namespace detail

#endif

namespace detail {
namespace {

/// Calls `dom(element)` or `reference(value)`, whichever `at` holds. The `dom` functions are
/// generic lambdas: without simdjson they are never instantiated.
template <typename At, typename Dom, typename Reference>
auto visit(const At& at, [[maybe_unused]] Dom dom, Reference reference) {
#if WAMPBOX_SIMDJSON
  if (const auto* e = std::get_if<simdjson::dom::element>(&at)) return dom(*e);
#endif
  return reference(*std::get<value*>(at));
}

}  // namespace

bool json_view::is_object() const noexcept {
  return visit(
      at_, [](const auto& e) { return e.type() == decltype(e.type())::OBJECT; },
      [](const value& v) { return v.is_object(); });
}

bool json_view::is_array() const noexcept {
  return visit(
      at_, [](const auto& e) { return e.type() == decltype(e.type())::ARRAY; },
      [](const value& v) { return v.is_array(); });
}

bool json_view::is_null() const noexcept {
  return visit(
      at_, [](const auto& e) { return e.type() == decltype(e.type())::NULL_VALUE; },
      [](const value& v) { return v.is_null(); });
}

bool json_view::is_string() const noexcept {
  return visit(
      at_,
      [](const auto& e) {
        if (e.type() != decltype(e.type())::STRING) return false;
        const std::string_view s = e.get_string().value_unsafe();
        return s.empty() || s.front() != '\0';  // else Autobahn's binary
      },
      [](const value& v) { return v.is_string(); });
}

bool json_view::is_number_integer() const noexcept {
  return visit(
      at_,
      [](const auto& e) {
        return e.type() == decltype(e.type())::INT64 || e.type() == decltype(e.type())::UINT64;
      },
      [](const value& v) { return v.is_number_integer(); });
}

std::string_view json_view::get_string() const noexcept {
  return visit(
      at_, [](const auto& e) { return e.get_string().value_unsafe(); },
      [](const value& v) { return std::string_view(v.get_ref<const std::string&>()); });
}

std::int64_t json_view::get_int64() const noexcept {
  return visit(
      at_,
      [](const auto& e) {
        if (e.type() == decltype(e.type())::UINT64)
          return static_cast<std::int64_t>(e.get_uint64().value_unsafe());
        return e.get_int64().value_unsafe();
      },
      [](const value& v) { return v.get<std::int64_t>(); });
}

void json_view::find_members(const std::string_view* keys, std::optional<json_view>* found,
                             std::size_t n) const noexcept {
  visit(
      at_,
      [&](const auto& e) {
        if (e.type() != decltype(e.type())::OBJECT) return;
        const auto fields = e.get_object().value_unsafe();
        for (const auto field : fields)
          for (std::size_t i = 0; i < n; ++i)
            if (field.key == keys[i]) found[i].emplace(field.value);  // a later duplicate wins
      },
      [&](value& v) {
        if (!v.is_object()) return;
        for (std::size_t i = 0; i < n; ++i)
          if (const auto it = v.find(keys[i]); it != v.end()) found[i].emplace(*it);
      });
}

value json_view::take_value() const {
  return malformed_on_bad_alloc([&] {
    return visit(
        at_, [](const auto& e) { return build(e); }, [](value& v) { return std::move(v); });
  });
}

}  // namespace detail

}  // namespace wampbox::wire
