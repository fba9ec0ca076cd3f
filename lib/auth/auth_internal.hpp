// wampbox — internals shared by the authentication sources: wiped buffers, hex, Base64.
#pragma once

#include <wampbox/auth/authenticator.hpp>

#include <sodium.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace wampbox::auth::detail {

/// Bytes of a secret, wiped when destroyed.
struct secret_bytes {
  std::string bytes;
  explicit secret_bytes(std::string b) : bytes(std::move(b)) {}
  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  ~secret_bytes() { sodium_memzero(bytes.data(), bytes.size()); }
};

/// A libsodium Ed25519 secret key (seed followed by the public key), wiped when destroyed.
struct ed25519_secret_key {
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  ed25519_secret_key() = default;
  ed25519_secret_key(const ed25519_secret_key&) = delete;
  ed25519_secret_key& operator=(const ed25519_secret_key&) = delete;
  ~ed25519_secret_key() { sodium_memzero(sk.data(), sk.size()); }
};

/// A string holding key material for the length of a scope.
class scoped_wipe {
 public:
  explicit scoped_wipe(std::string& s) noexcept : s_(s) {}
  scoped_wipe(const scoped_wipe&) = delete;
  scoped_wipe& operator=(const scoped_wipe&) = delete;
  ~scoped_wipe() { sodium_memzero(s_.data(), s_.size()); }

 private:
  std::string& s_;
};

/// Lower-case hex of `data`.
std::string to_hex(std::string_view data);
/// The bytes of lower- or upper-case hex text; nullopt when it is not exactly hex.
std::optional<std::string> from_hex(std::string_view hex);
/// Standard padded Base64 (RFC 4648 §4).
std::string to_base64(std::string_view data);
/// The bytes of standard padded Base64; nullopt when it is not exactly that.
std::optional<std::string> from_base64(std::string_view text);

}  // namespace wampbox::auth::detail
