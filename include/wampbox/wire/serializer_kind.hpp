// wampbox — naming the three WAMP serializers (the serializers themselves are in
// wire/serializer.hpp).
#pragma once

#include <wampbox/export.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace wampbox::wire {

/// A WAMP serializer.
enum class serializer_kind : std::uint8_t { json = 1, msgpack = 2, cbor = 3 };

/// The WebSocket subprotocol name, e.g. "wamp.2.json".
WAMPBOX_API std::string_view websocket_subprotocol(serializer_kind s) noexcept;
/// The RawSocket serializer id (1 JSON, 2 MessagePack, 3 CBOR).
constexpr std::uint8_t rawsocket_id(serializer_kind s) noexcept {
  return static_cast<std::uint8_t>(s);
}
/// Short name: "json", "msgpack", "cbor".
WAMPBOX_API std::string_view serializer_name(serializer_kind s) noexcept;
/// Parses a short name; empty when unknown.
WAMPBOX_API std::optional<serializer_kind> serializer_from_name(std::string_view name) noexcept;
/// True when the serializer produces text (JSON: WebSocket text frames).
constexpr bool is_text(serializer_kind s) noexcept { return s == serializer_kind::json; }

}  // namespace wampbox::wire
