// Shared helpers of the secure-mode tests: a group of peers with identities and a group key, a
// settable clock, and the payload layout of docs/secure-mode.md written out independently of
// the codec (to forge and re-sign payloads as a key holder could).
#pragma once

#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/error.hpp>

#include "codec_test_util.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace wampbox::codec::test {

inline constexpr std::int64_t start_ms = 1'800'000'000'000;  // 2027-01-15

/// Peers of one secure prefix ("com.example"): identities by name, one group key, one clock.
///   publisher: may publish; caller: may call; callee: may answer;
///   subscriber: listed (may call) but not a publisher; intruder: holds the group key, unlisted.
struct secure_group {
  std::string prefix = "com.example";
  std::string group_b64 = group_key::generate().to_base64();
  std::map<std::string, std::string> seeds;
  std::int64_t now = start_ms;

  secure_group() {
    for (const char* name : {"publisher", "caller", "callee", "subscriber", "intruder"})
      seeds[name] = identity_key::generate().seed_base64();
  }

  identity_key identity(const std::string& name) const {
    return identity_key::from_seed(seeds.at(name));
  }

  /// The ring of peer `me`: the group key, the listed senders, its own identity.
  secure_ring ring(const std::string& me) const {
    secure_ring r;
    r.set_identity(me, identity(me));
    r.add_key(prefix, group_key::from_base64(group_b64));
    r.trust_sender(prefix, "publisher", identity("publisher").public_key(),
                   roles_of({sender_role::publish}));
    r.trust_sender(prefix, "caller", identity("caller").public_key(),
                   roles_of({sender_role::call}));
    r.trust_sender(prefix, "callee", identity("callee").public_key(),
                   roles_of({sender_role::answer}));
    r.trust_sender(prefix, "subscriber", identity("subscriber").public_key(),
                   roles_of({sender_role::call}));
    return r;
  }

  /// Options whose clock is `now`.
  secure_options options() {
    secure_options o;
    o.clock = [this] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(now));
    };
    return o;
  }

  std::unique_ptr<secure_codec> codec(const std::string& me) {
    return std::make_unique<secure_codec>(ring(me), options());
  }
  std::unique_ptr<secure_codec> codec(secure_ring r) {
    return std::make_unique<secure_codec>(std::move(r), options());
  }
};

/// An encoded payload and the envelope options it travels with.
struct sealed {
  value options;
  wire::payload data;
};

inline wire::payload sample_args() {
  return {value::array({1, "two", {{"three", 3.0}}}), {{"k", "v"}}, std::nullopt};
}

/// Encodes `data` as `kind` on `uri` with `codec`.
inline sealed seal(secure_codec& codec, payload_kind kind, const std::string& uri,
                   call_context& call, wire::payload data = sample_args(),
                   value options = value::object()) {
  codec.encode(kind, uri, options, data, call);
  return {std::move(options), std::move(data)};
}

/// Decodes a copy of `s` as `kind` on `uri`; returns the payload.
inline wire::payload open(secure_codec& codec, payload_kind kind, const std::string& uri,
                          const sealed& s, call_context& call) {
  wire::payload data = s.data;
  codec.decode(kind, uri, s.options, data, call);
  return data;
}

// ---------------------------------------------------------------- the layout, written out

inline constexpr std::size_t header_size = 84, signature_size = 64;

/// Re-signs `box` (after a test changed its header or ciphertext) as the holder of `signer`
/// would: BLAKE2b-256 over header ‖ context ‖ ciphertext, signed with the label.
inline void resign(bytes& box, const identity_key& signer, const std::string& uri,
                   const std::string& error_uri = "") {
  short_id key_id;
  std::copy_n(box.begin() + 4, 8, key_id.begin());
  std::string ad(reinterpret_cast<const char*>(box.data()), header_size);
  for (const std::string& field : {std::string("wampbox-sec1"), std::string("x_wampbox_v1"),
                                   std::string("msgpack"), to_hex(key_id), uri, error_uri}) {
    const auto n = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) ad += static_cast<char>((n >> shift) & 0xff);
    ad += field;
  }
  const std::size_t ct_end = box.size() - signature_size;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(ad.data()), ad.size());
  crypto_generichash_update(&st, box.data() + header_size, ct_end - header_size);
  std::string message = "wampbox-sec1 sig";
  unsigned char digest[32];
  crypto_generichash_final(&st, digest, sizeof digest);
  message.append(reinterpret_cast<const char*>(digest), sizeof digest);
  crypto_sign_detached(box.data() + ct_end, nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       signer.secret_key());
}

}  // namespace wampbox::codec::test
