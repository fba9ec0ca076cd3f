// Fuzz harness: parse_message in one serializer (FUZZ_SERIALIZER: json, msgpack or cbor), with a
// round-trip check: whatever parses must serialize, and the serialized bytes must parse back into
// a message that serializes to the same bytes. Only protocol_error may escape the parser.
#include "fuzz_support.hpp"

#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wire = wampbox::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr auto kind = wire::serializer_kind::FUZZ_SERIALIZER;
  wire::message parsed;
  try {
    parsed = wire::parse_message(kind, std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const wampbox::protocol_error&) {
    return 0;
  }
  // Bytes, not values, are compared: NaN never equals itself.
  const std::string once = wire::serialize_message(kind, parsed);
  const std::string twice = wire::serialize_message(kind, wire::parse_message(kind, once));
  fuzz::require(once == twice, "a parsed message does not survive a round trip");
  return 0;
}
