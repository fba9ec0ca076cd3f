// WAMP-CRA and WAMP-SCRAM computations (HMAC-SHA256, PBKDF2, Argon2id through libsodium).
#include <wampbox/auth/crypto.hpp>

#include "auth_internal.hpp"

#include "../codec/sodium_util.hpp"

#include <wampbox/error.hpp>

#include <algorithm>
#include <array>

namespace wampbox::auth {
namespace {

using digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

/// An HMAC-SHA256 state keyed once, for any number of messages; wiped when destroyed.
class hmac_sha256 {
 public:
  explicit hmac_sha256(std::string_view key) {
    codec::detail::ensure_sodium();
    crypto_auth_hmacsha256_init(&keyed_, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
  }
  hmac_sha256(const hmac_sha256&) = delete;
  hmac_sha256& operator=(const hmac_sha256&) = delete;
  ~hmac_sha256() { sodium_memzero(&keyed_, sizeof keyed_); }

  /// HMAC of the concatenation of `parts`.
  template <typename... Parts>
  digest operator()(const Parts&... parts) const {
    crypto_auth_hmacsha256_state s = keyed_;
    (crypto_auth_hmacsha256_update(&s, as_bytes(parts), std::size(parts)), ...);
    digest out{};
    crypto_auth_hmacsha256_final(&s, out.data());
    sodium_memzero(&s, sizeof s);
    return out;
  }

 private:
  static const unsigned char* as_bytes(std::string_view v) {
    return reinterpret_cast<const unsigned char*>(v.data());
  }
  static const unsigned char* as_bytes(const digest& d) { return d.data(); }
  crypto_auth_hmacsha256_state keyed_{};
};

std::string_view view(const digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// PBKDF2-HMAC-SHA256 (RFC 8018) of `keylen` bytes.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt,
                          std::uint32_t iterations, std::size_t keylen) {
  if (iterations == 0) throw error(errc::invalid_key, "PBKDF2 needs at least one iteration");
  if (keylen == 0 || keylen > 1024)
    throw error(errc::invalid_key, "PBKDF2 key length must be 1..1024");
  const hmac_sha256 prf(password);
  std::string out;
  out.reserve(keylen);
  for (std::uint32_t block = 1; out.size() < keylen; ++block) {
    const std::array<unsigned char, 4> index{
        static_cast<unsigned char>(block >> 24), static_cast<unsigned char>(block >> 16),
        static_cast<unsigned char>(block >> 8), static_cast<unsigned char>(block)};
    digest u = prf(salt, std::string_view(reinterpret_cast<const char*>(index.data()), 4));
    digest t = u;
    for (std::uint32_t i = 1; i < iterations; ++i) {
      u = prf(u);
      for (std::size_t k = 0; k < t.size(); ++k) t[k] ^= u[k];
    }
    out.append(view(t).substr(0, std::min(t.size(), keylen - out.size())));
    sodium_memzero(u.data(), u.size());
    sodium_memzero(t.data(), t.size());
  }
  return out;
}

}  // namespace

std::string wampcra_signature(std::string_view key, std::string_view challenge) {
  const digest mac = hmac_sha256(key)(challenge);
  return detail::to_base64(view(mac));
}

std::string wampcra_derive_key(std::string_view secret, std::string_view salt,
                               std::uint32_t iterations, std::size_t keylen) {
  std::string raw = pbkdf2_sha256(secret, salt, iterations, keylen);
  const detail::scoped_wipe wipe_raw(raw);
  return detail::to_base64(raw);
}

std::string scram_salted_password(scram_kdf kdf, std::string_view password, std::string_view salt,
                                  std::uint32_t iterations, std::uint32_t memory) {
  if (kdf == scram_kdf::pbkdf2) return pbkdf2_sha256(password, salt, iterations, 32);
  codec::detail::ensure_sodium();
  if (salt.size() != crypto_pwhash_SALTBYTES)
    throw error(errc::invalid_key, "Argon2id needs a " + std::to_string(crypto_pwhash_SALTBYTES) +
                                       "-byte salt, the router sent " +
                                       std::to_string(salt.size()) + " bytes");
  const unsigned long long memlimit = static_cast<unsigned long long>(memory) * 1024;
  if (iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN)
    throw error(errc::invalid_key, "Argon2id parameters too small (iterations " +
                                       std::to_string(iterations) + ", memory " +
                                       std::to_string(memory) + " KiB)");
  std::array<unsigned char, 32> raw{};
  const int failed =
      crypto_pwhash(raw.data(), raw.size(), password.data(), password.size(),
                    reinterpret_cast<const unsigned char*>(salt.data()), iterations,
                    static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13);
  if (failed != 0) {
    sodium_memzero(raw.data(), raw.size());
    throw error(errc::authentication_failed, "Argon2id failed (out of memory?)");
  }
  // Autobahn keys the HMACs with the hash field of Argon2's encoded string: unpadded Base64.
  std::string encoded(
      sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  encoded.pop_back();  // the terminating NUL
  sodium_memzero(raw.data(), raw.size());
  return encoded;
}

std::string scram_auth_message(std::string_view authid, std::string_view client_nonce,
                               std::string_view server_nonce, std::string_view salt_base64,
                               std::uint32_t iterations) {
  std::string m;
  m.append("n=").append(authid).append(",r=").append(client_nonce);
  m.append(",r=").append(server_nonce).append(",s=").append(salt_base64);
  m.append(",i=").append(std::to_string(iterations));
  m.append(",c=,r=").append(server_nonce);
  return m;
}

std::string scram_client_proof(std::string_view salted_password, std::string_view auth_message) {
  digest client_key = hmac_sha256(salted_password)(std::string_view("Client Key"));
  digest stored_key{};
  crypto_hash_sha256(stored_key.data(), client_key.data(), client_key.size());
  digest proof = hmac_sha256(view(stored_key))(auth_message);
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
  std::string out = detail::to_base64(view(proof));
  for (auto* d : {&client_key, &stored_key, &proof}) sodium_memzero(d->data(), d->size());
  return out;
}

std::string scram_server_signature(std::string_view salted_password,
                                   std::string_view auth_message) {
  digest server_key = hmac_sha256(salted_password)(std::string_view("Server Key"));
  const digest signature = hmac_sha256(view(server_key))(auth_message);
  sodium_memzero(server_key.data(), server_key.size());
  return detail::to_base64(view(signature));
}

}  // namespace wampbox::auth
