// Fuzz harness: arbitrary plaintext, properly encrypted with the ring's key, through
// cryptobox_codec::decode, so the inner JSON parsing, the URI, binding and replay checks are
// reached. The first byte picks the message kind and the codec's options; the rest is the
// plaintext. Checks: only payload_error escapes, a refused payload is unchanged, an accepted one
// has array-or-null args and object-or-null kwargs and is refused when presented again.
#include "fuzz_support.hpp"

#include <wampbox/error.hpp>

#include <sodium.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace codec = wampbox::codec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const auto kind = fuzz::incoming_kind(control);
  codec::cryptobox_options options;
  options.require_binding = (control & 4U) != 0;
  options.replay_protection = (control & 8U) == 0;
  // Fixed clocks: the same input always takes the same path. The wall clock reads
  // 2026-01-01T00:00:00Z, i.e. "ts":1767225600000 is inside the window.
  options.clock = [] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1767225600000));
  };
  codec::cryptobox_codec c(fuzz::codec_ring(), options);

  const unsigned char* k =
      c.ring().find(fuzz::codec_uri)->k->shared_key(codec::key_role::originator);
  const std::size_t plain_size = size - 1;
  wampbox::bytes box(crypto_box_NONCEBYTES + crypto_box_MACBYTES + plain_size);
  for (std::size_t i = 0; i < crypto_box_NONCEBYTES; ++i)
    box[i] = static_cast<std::uint8_t>(i + control);
  crypto_box_easy_afternm(box.data() + crypto_box_NONCEBYTES, data + 1, plain_size, box.data(), k);

  const wampbox::value details = {{"enc_algo", "cryptobox"}, {"enc_serializer", "json"}};
  wampbox::wire::payload p;
  p.opaque = box;
  const wampbox::wire::payload before = p;
  codec::call_context call;
  if ((control & 16U) != 0) call.binding = fuzz::call_id;
  const codec::call_context call_before = call;
  try {
    c.decode(kind, fuzz::codec_uri, details, p, call);
  } catch (const wampbox::payload_error&) {
    fuzz::require(p == before, "a refused payload was changed");
    fuzz::require(call.binding == call_before.binding && call.encrypted == call_before.encrypted,
                  "a refused payload changed the call context");
    return 0;
  }
  fuzz::require(!p.opaque && call.encrypted, "an accepted payload is still opaque");
  fuzz::require(p.args.is_null() || p.args.is_array(), "accepted args are neither a list nor null");
  fuzz::require(p.kwargs.is_null() || p.kwargs.is_object(),
                "accepted kwargs are neither a dict nor null");
  if (options.replay_protection) {
    wampbox::wire::payload again;
    again.opaque = box;
    codec::call_context again_call = call_before;
    try {
      c.decode(kind, fuzz::codec_uri, details, again, again_call);
      fuzz::require(false, "a replayed payload was accepted");
    } catch (const wampbox::payload_error& e) {
      fuzz::require(e.code() == wampbox::errc::replayed_payload,
                    "a replay was refused for another reason");
    }
  }
  return 0;
}
