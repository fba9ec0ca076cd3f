// Fuzz harness: cryptobox_codec::decode of arbitrary bytes as the encrypted payload. The first
// byte picks the incoming message kind and which envelope fields are present; the rest is the
// bare binary. Only payload_error may escape, a refused payload must be left unchanged, and an
// accepted one (the seeds are real payloads) has list/dict arguments.
#include "fuzz_support.hpp"

#include <wampbox/error.hpp>

#include <cstddef>
#include <cstdint>

namespace codec = wampbox::codec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const auto kind = fuzz::incoming_kind(control);
  wampbox::value details = wampbox::value::object();
  if ((control & 4U) == 0) details["enc_algo"] = (control & 8U) == 0 ? "cryptobox" : "other";
  if ((control & 16U) == 0) details["enc_serializer"] = (control & 32U) == 0 ? "json" : "msgpack";

  codec::cryptobox_codec c(fuzz::codec_ring());
  wampbox::wire::payload p;
  p.opaque = wampbox::bytes(data + 1, data + size);
  const wampbox::wire::payload before = p;
  codec::call_context call;
  if ((control & 64U) != 0) call.binding = fuzz::call_id;
  try {
    c.decode(kind, fuzz::codec_uri, details, p, call);
  } catch (const wampbox::payload_error&) {
    fuzz::require(p == before, "a refused payload was changed");
    return 0;
  }
  // Accepted: only a real payload (as the seeds are); the strict key refuses plaintext.
  fuzz::require(!p.opaque && call.encrypted, "an accepted payload is still opaque");
  fuzz::require(p.args.is_null() || p.args.is_array(), "accepted args are neither a list nor null");
  fuzz::require(p.kwargs.is_null() || p.kwargs.is_object(),
                "accepted kwargs are neither a dict nor null");
  return 0;
}
