// wampbox — the one dynamic value type used for arguments, options and details.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wampbox {

/// Dynamic value of every payload, option and detail, across JSON, MessagePack and CBOR.
/// Binary data is `value::binary_t` (no subtype), which each serializer carries natively
/// (JSON: "\u0000"+base64, as Autobahn does).
using value = nlohmann::json;

/// Raw bytes (binary payloads, keys, ciphertext).
using bytes = std::vector<std::uint8_t>;

/// Makes a binary value from bytes.
inline value make_binary(bytes data) { return value::binary(std::move(data)); }

/// Views a string's bytes as unsigned bytes (no copy).
inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace wampbox
