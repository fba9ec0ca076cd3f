// The payload layout of docs/secure-mode.md, written out independently of the codec, for tests
// and fuzz harnesses that forge or re-sign payloads as a key holder could. Needs only libsodium
// and the public key types.
#pragma once

#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/wire/value.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace wampbox::codec::test {

inline constexpr std::size_t header_size = 84, signature_size = 64;

/// The associated data of a payload: its header (the first 84 bytes of `box`), then the
/// context (length-prefixed label, enc_algo, enc_serializer, enc_key, URI, error URI).
inline std::string associated_data(const bytes& box, const std::string& uri,
                                   const std::string& error_uri) {
  short_id key_id;
  std::copy_n(box.begin() + 4, 8, key_id.begin());
  std::string ad(reinterpret_cast<const char*>(box.data()), header_size);
  for (const std::string& field : {std::string("wampbox-sec1"), std::string("x_wampbox_v1"),
                                   std::string("msgpack"), to_hex(key_id), uri, error_uri}) {
    const auto n = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) ad += static_cast<char>((n >> shift) & 0xff);
    ad += field;
  }
  return ad;
}

/// Re-signs `box` (after a test changed its header or ciphertext) as the holder of `signer`
/// would: BLAKE2b-256 over header ‖ context ‖ ciphertext, signed with the label.
inline void resign(bytes& box, const identity_key& signer, const std::string& uri,
                   const std::string& error_uri = "") {
  const std::string ad = associated_data(box, uri, error_uri);
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

/// Encrypts `plaintext` under `key` into `box`, whose header (84 bytes) is filled in already,
/// then signs it: a payload a listed sender (or, with another `signer`, a key holder) could send.
inline void seal_box(bytes& box, const group_key& key, const unsigned char* plaintext,
                     std::size_t size, const identity_key& signer, const std::string& uri,
                     const std::string& error_uri = "") {
  box.resize(header_size + size + 16 + signature_size);
  const std::string ad = associated_data(box, uri, error_uri);
  crypto_aead_xchacha20poly1305_ietf_encrypt(box.data() + header_size, nullptr, plaintext, size,
                                             reinterpret_cast<const unsigned char*>(ad.data()),
                                             ad.size(), nullptr, box.data() + 60, key.secret());
  resign(box, signer, uri, error_uri);
}

}  // namespace wampbox::codec::test
