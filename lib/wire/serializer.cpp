// serialize / deserialize glue and the message-level entry points.
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "internal.hpp"

#include <array>

namespace wampbox::wire {
namespace {

// nlohmann's MessagePack/CBOR writers neither check UTF-8 nor bound their recursion; check
// both first so that we never emit what our own reader (or a peer) would reject.
void check_for_binary_format(const value& v, int depth) {
  switch (v.type()) {
    case value::value_t::string:
      if (!detail::valid_utf8(v.get_ref<const std::string&>()))
        throw protocol_error(errc::invalid_message, "string is not valid UTF-8");
      return;
    case value::value_t::array:
    case value::value_t::object:
      if (++depth > detail::max_nesting)
        throw protocol_error(errc::invalid_message, "value nested too deeply");
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (v.is_object() && !detail::valid_utf8(it.key()))
          throw protocol_error(errc::invalid_message, "dict key is not valid UTF-8");
        check_for_binary_format(*it, depth);
      }
      return;
    default: return;
  }
}

}  // namespace

void serialize(serializer_kind s, const value& v, std::string& out) {
  switch (s) {
    case serializer_kind::json: write_json(v, out); return;
    case serializer_kind::msgpack:
      check_for_binary_format(v, 0);
      value::to_msgpack(v, nlohmann::detail::output_adapter<char>(out));
      return;
    case serializer_kind::cbor:
      check_for_binary_format(v, 0);
      value::to_cbor(v, nlohmann::detail::output_adapter<char>(out));
      return;
  }
  throw protocol_error(errc::invalid_message, "unknown serializer");
}

std::string serialize_message(serializer_kind s, const message& m) {
  std::string out;
  serialize(s, to_array(m), out);
  return out;
}

std::string serialize_message(serializer_kind s, message&& m) {
  std::string out;
  // Room for an opaque payload (e.g. ciphertext) and the fields around it at once, rather than
  // growing the string step by step; JSON's Base64 takes 4/3 of it.
  std::visit(
      [&](const auto& typed) {
        if constexpr (requires { typed.data.opaque; })
          if (typed.data.opaque) out.reserve(typed.data.opaque->size() / 3 * 4 + 256);
      },
      m);
  serialize(s, to_array(std::move(m)), out);
  return out;
}

message parse_message(serializer_kind s, std::string_view bytes) {
  try {
    // The fields straight from the bytes, without the array value around them.
    std::array<value, detail::max_message_fields> fields;
    if (s == serializer_kind::msgpack) {
      if (const auto n = detail::read_msgpack_items(bytes, fields))
        return detail::message_from_fields(std::span(fields.data(), *n));
    } else if (s == serializer_kind::json) {
      if (const auto n = detail::read_json_direct_items(bytes, fields))
        return detail::message_from_fields(std::span(fields.data(), *n));
      return from_array(detail::read_json_full(bytes));  // the direct reader declined it once
    }
    return from_array(deserialize(s, bytes));
  } catch (const protocol_error&) {
    throw;
  } catch (
      const std::exception& e) {  // e.g. std::bad_alloc: keep the "only protocol_error" promise
    throw protocol_error(errc::malformed_message, e.what());
  }
}

}  // namespace wampbox::wire
