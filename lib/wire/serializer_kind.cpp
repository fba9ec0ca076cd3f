#include <wampbox/wire/serializer.hpp>

namespace wampbox::wire {

std::string_view websocket_subprotocol(serializer_kind s) noexcept {
  switch (s) {
    case serializer_kind::json: return "wamp.2.json";
    case serializer_kind::msgpack: return "wamp.2.msgpack";
    case serializer_kind::cbor: return "wamp.2.cbor";
  }
  return {};
}

std::string_view serializer_name(serializer_kind s) noexcept {
  switch (s) {
    case serializer_kind::json: return "json";
    case serializer_kind::msgpack: return "msgpack";
    case serializer_kind::cbor: return "cbor";
  }
  return {};
}

std::optional<serializer_kind> serializer_from_name(std::string_view name) noexcept {
  for (auto s : {serializer_kind::json, serializer_kind::msgpack, serializer_kind::cbor})
    if (serializer_name(s) == name) return s;
  return std::nullopt;
}

}  // namespace wampbox::wire
