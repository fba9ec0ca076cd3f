// wampbox — the WAMP authentication methods, as Crossbar.io and Autobahn implement them.
//
//   join_options jo;
//   jo.authenticator = auth::ticket("ticket-user", auth::secret::from_env("WAMP_TICKET"));
//   co_await s.async_join(jo);
//
// A router that refuses sends ABORT: the join fails with a wamp_error whose uri() is the
// router's reason, whose what() includes its message, and whose code() is
// errc::authentication_failed.
#pragma once

#include <wampbox/auth/authenticator.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace wampbox::auth {

namespace detail {
struct ed25519_secret_key;
}

/// An Ed25519 private key for WAMP-Cryptosign (held in memory that is wiped when the last copy
/// goes). Malformed key material throws error(errc::invalid_key) that never quotes the key.
class WAMPBOX_API cryptosign_key {
 public:
  /// From the 32-byte seed in hex (64 hex digits), as Autobahn's `CryptosignKey.from_bytes`
  /// and Crossbar.io's key files hold it.
  static cryptosign_key from_hex_seed(std::string_view hex);
  /// From the text of an unencrypted OpenSSH Ed25519 private key
  /// (`-----BEGIN OPENSSH PRIVATE KEY-----`, as `ssh-keygen -t ed25519 -N ''` writes it).
  static cryptosign_key from_openssh(std::string_view text);
  /// From an OpenSSH private key file that only its owner may access (`chmod 600`).
  static cryptosign_key from_openssh_file(const std::filesystem::path& path);
  /// From a file only its owner may access, in any of the formats Autobahn and Crossbar.io
  /// use: an OpenSSH private key, a Crossbar.io/Autobahn key file (`private-key-ed25519: HEX`),
  /// or the hex seed alone.
  static cryptosign_key from_file(const std::filesystem::path& path);
  /// The public key in hex (what Crossbar.io's `authorized_keys` lists).
  std::string public_key_hex() const;
  /// Signs a WAMP-Cryptosign challenge (64 hex digits) as Autobahn does: the hex of the
  /// Ed25519 signature followed by the hex of the signed 32 bytes (the challenge, XORed with
  /// `channel_id` when that is given: SHA-256 of the TLS channel-binding data).
  std::string sign_challenge(std::string_view challenge_hex,
                             std::string_view channel_id = {}) const;

 private:
  explicit cryptosign_key(std::shared_ptr<const detail::ed25519_secret_key> key);
  std::shared_ptr<const detail::ed25519_secret_key> key_;
};

/// Anonymous authentication, announced explicitly (HELLO.authmethods ["anonymous"]), with an
/// optional authid. Joining without any authenticator is anonymous too.
WAMPBOX_API authenticator anonymous(std::string authid = {});

/// WAMP-Ticket: the ticket is sent as it is (use it over TLS only).
WAMPBOX_API authenticator ticket(std::string authid, secret ticket);

/// WAMP-CRA: HMAC-SHA256 of the router's challenge; for a salted secret the key is derived
/// as the router asks (PBKDF2, Autobahn's `derive_key`).
WAMPBOX_API authenticator wampcra(std::string authid, secret secret);

/// WAMP-Cryptosign: an Ed25519 signature of the router's challenge. HELLO carries the public
/// key, and asks for "tls-unique" channel binding when the transport offers it (TLS). An empty
/// authid lets the router find the principal by the public key.
WAMPBOX_API authenticator cryptosign(std::string authid, cryptosign_key key);

/// WAMP-SCRAM as Crossbar.io implements it (method "scram", KDF "argon2id-13" or "pbkdf2",
/// the router's signature checked in WELCOME). The authid must be printable ASCII (SASLprep
/// leaves that unchanged). The KDF runs on the session's executor; its cost is bounded
/// (Argon2id: at most 1 GiB, 16384 passes and 8 GiB of memory passes in all; PBKDF2: at most
/// 10 000 000 iterations).
WAMPBOX_API authenticator scram(std::string authid, secret password);

/// Any other method: `respond` answers each CHALLENGE (now or later, through the reply);
/// HELLO.Details.authextra comes from `join_options::authextra`.
WAMPBOX_API authenticator custom(std::string method, std::string authid,
                                 std::function<void(const challenge&, reply)> respond);

}  // namespace wampbox::auth
