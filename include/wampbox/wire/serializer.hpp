// wampbox — the three WAMP serializers: JSON, MessagePack, CBOR.
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/wire/message.hpp>
#include <wampbox/wire/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
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

/// Writes a value as compact JSON exactly as Autobahn|Python does (separators "," ":",
/// UTF-8 unescaped, binary as "\u0000"+base64). Appends to `out`; on failure `out` is unchanged.
/// Throws `protocol_error` (errc::invalid_message) for invalid UTF-8, NaN or infinity, nesting
/// deeper than 128, and for a string value that begins with U+0000.
/// The U+0000 rule: in JSON (the wire, and the encrypted payloads' inner JSON) a string value
/// beginning with U+0000 is binary, as in Autobahn; a text string beginning with U+0000 would be
/// read back as binary (or refused as bad Base64), so it is refused when written instead of
/// arriving changed. MessagePack and CBOR carry such strings as text. Dict keys are never binary.
WAMPBOX_API void write_json(const value& v, std::string& out);
/// Parses JSON text (strict UTF-8); string values starting with U+0000 become binary (the
/// Base64 after it must be standard and padded). Throws `protocol_error`
/// (errc::malformed_message; errc::message_too_large when the value would take more than
/// 64 MiB in memory, or 4 times the text's size if that is more).
WAMPBOX_API value read_json(std::string_view text);
/// Bytes after the text that read_json_padded may read (their content does not matter).
inline constexpr std::size_t json_padding = 64;
/// read_json without copying `text`, whose json_padding following bytes must be readable
/// (e.g. spare room in the caller's buffer). Meant for decrypted plaintext: it also wipes what
/// the reader's reused per-thread buffers hold of the text before returning.
WAMPBOX_API value read_json_padded(std::string_view text);

/// Serializes a value (normally a WAMP array). Appends to `out`.
WAMPBOX_API void serialize(serializer_kind s, const value& v, std::string& out);
/// Deserializes one value. Throws `protocol_error`: errc::malformed_message on bad bytes,
/// errc::message_too_large when the value would take more than 64 MiB in memory, or 4 times the
/// bytes' size if that is more (one byte can be an empty map of ~100 bytes once read).
WAMPBOX_API value deserialize(serializer_kind s, std::string_view bytes);

/// Serializes a message into a fresh buffer.
WAMPBOX_API std::string serialize_message(serializer_kind s, const message& m);
/// Serializes a message, moving its payload and options instead of copying them.
WAMPBOX_API std::string serialize_message(serializer_kind s, message&& m);
/// Parses bytes into a message. Throws `protocol_error`; never anything else.
WAMPBOX_API message parse_message(serializer_kind s, std::string_view bytes);

}  // namespace wampbox::wire
