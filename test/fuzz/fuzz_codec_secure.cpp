// Fuzz harness: secure_codec::decode of payloads that a group-key holder could send. The first
// byte is the control, the rest the inner plaintext (meant to be MessagePack [args, kwargs]),
// which the harness seals under the ring's group key and signs (docs/secure-mode.md), so that the
// fuzzer reaches what lies behind the signature: decryption, call binding, time, sequence, the
// inner payload. Control bits: 0-1 the incoming kind; 2 the progress flag; 3 signed by a key
// holder who is not listed; 4 another call binding; 5 a sender time outside the window; 6-7 the
// sequence number (1 + their value). Only payload_error may escape; a refused payload and call
// context are unchanged; an accepted one has list/dict arguments and a sender, and is refused
// as replayed_payload the second time.
#include "../unit/codec/secure_layout.hpp"
#include "fuzz_support.hpp"

#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace codec = wampbox::codec;
using codec::payload_kind;

namespace {

constexpr std::int64_t now_ms = 1767225600000;
constexpr const char* error_uri = "com.example.error.failed";

/// The ring (one group key, one listed sender for every role) and the keys to seal with.
struct world {
  codec::identity_key listed =
      codec::identity_key::from_seed("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
  codec::identity_key outsider =
      codec::identity_key::from_seed("ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=");
  codec::group_key key =
      codec::group_key::from_base64("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=");
  std::shared_ptr<const codec::secure_ring> ring;

  world() {
    codec::secure_ring r;
    r.add_key("com.example", codec::group_key::from_base64(key.to_base64()));
    r.trust_sender("com.example", "listed", listed.public_key(),
                   codec::roles_of({codec::sender_role::publish, codec::sender_role::call,
                                    codec::sender_role::answer}));
    ring = std::make_shared<const codec::secure_ring>(std::move(r));
  }
};

const world& the_world() {
  static const world w;  // key construction is the slow part
  return w;
}

void put_u64(wampbox::bytes& box, std::size_t offset, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) box[offset + static_cast<std::size_t>(i)] = v & 0xff;
}

bool same(const codec::call_context& a, const codec::call_context& b) {
  return a.encrypted == b.encrypted && a.binding == b.binding && a.procedure == b.procedure &&
         a.sender == b.sender;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const world& w = the_world();
  const std::uint8_t control = data[0];
  const payload_kind kind = fuzz::incoming_kind(control);
  const bool answer = kind == payload_kind::result || kind == payload_kind::result_error;
  const std::string procedure = fuzz::codec_uri;  // covered by "com.example"
  const std::string errors = kind == payload_kind::result_error ? error_uri : "";

  wampbox::bytes box(codec::test::header_size, 0);
  box[0] = 1;
  box[1] = static_cast<std::uint8_t>((control & 3U) + 1);  // event, call, answer, error
  box[2] = (control & 4U) != 0 ? 1 : 0;
  const codec::identity_key& signer = (control & 8U) != 0 ? w.outsider : w.listed;
  std::copy(w.key.id().begin(), w.key.id().end(), box.begin() + 4);
  std::copy(signer.sender_id().begin(), signer.sender_id().end(), box.begin() + 12);
  put_u64(box, 20, 0x53545245414d3031);  // the stream
  put_u64(box, 28, 1 + (control >> 6));
  put_u64(box, 36, static_cast<std::uint64_t>((control & 32U) != 0 ? now_ms - 600000 : now_ms));
  if (kind != payload_kind::event) {
    sodium_hex2bin(box.data() + 44, 16, fuzz::call_id, 32, nullptr, nullptr, nullptr);
    if ((control & 16U) != 0) box[44] ^= 1;
  }
  for (std::size_t i = 60; i < 84; ++i) box[i] = static_cast<std::uint8_t>(i);
  codec::test::seal_box(box, w.key, data + 1, size - 1, signer, procedure, errors);

  wampbox::value details = {{"enc_algo", "x_wampbox_v1"},
                            {"enc_serializer", "msgpack"},
                            {"enc_key", codec::to_hex(w.key.id())}};
  if (kind == payload_kind::result && (control & 4U) != 0) details["progress"] = true;
  codec::secure_options options;
  options.clock = [] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  };
  codec::secure_codec c(w.ring, options);
  codec::call_context call;
  if (answer) {
    call.binding = fuzz::call_id;
    call.procedure = procedure;
  }
  const codec::call_context before_call = call;
  const std::string uri = kind == payload_kind::result_error ? errors : procedure;

  wampbox::wire::payload p{nullptr, nullptr, box};
  const wampbox::wire::payload before = p;
  try {
    c.decode(kind, uri, details, p, call);
  } catch (const wampbox::payload_error&) {
    fuzz::require(p == before, "a refused payload was changed");
    fuzz::require(same(call, before_call), "a refused payload changed the call context");
    return 0;
  }
  fuzz::require(!p.opaque && call.encrypted && call.sender.has_value(),
                "an accepted payload is opaque or has no sender");
  fuzz::require(p.args.is_null() || p.args.is_array(), "accepted args are neither a list nor null");
  fuzz::require(p.kwargs.is_null() || p.kwargs.is_object(),
                "accepted kwargs are neither a dict nor null");
  wampbox::wire::payload again{nullptr, nullptr, box};
  codec::call_context again_call = before_call;
  try {
    c.decode(kind, uri, details, again, again_call);
    fuzz::require(false, "a replayed payload was accepted");
  } catch (const wampbox::payload_error& e) {
    fuzz::require(e.code() == wampbox::errc::replayed_payload, "a replay was not refused as such");
  }
  return 0;
}
