// wampbox — the computations behind WAMP-CRA and WAMP-SCRAM, byte-for-byte as Autobahn|Python
// (autobahn.wamp.auth) and Crossbar.io do them. The methods in <wampbox/auth/methods.hpp> use
// them; they are public for tools (e.g. deriving a salted WAMP-CRA secret for a router's
// configuration) and tests. Results that are key material are the caller's to wipe.
#pragma once

#include <wampbox/export.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wampbox::auth {

/// WAMP-CRA signature: Base64(HMAC-SHA256(key, challenge)) (Autobahn's `compute_wcs`).
WAMPBOX_API std::string wampcra_signature(std::string_view key, std::string_view challenge);

/// WAMP-CRA salted key: Base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)), the
/// Base64 text itself being the HMAC key (Autobahn's `derive_key`; `salt` is used as text).
WAMPBOX_API std::string wampcra_derive_key(std::string_view secret, std::string_view salt,
                                           std::uint32_t iterations, std::size_t keylen);

/// WAMP-SCRAM key derivation functions.
enum class scram_kdf {
  argon2id13,  ///< "argon2id-13": Argon2id v1.3, parallelism 1, 32 bytes
  pbkdf2,      ///< "pbkdf2": PBKDF2-HMAC-SHA256, 32 bytes
};

/// WAMP-SCRAM SaltedPassword. `salt` is the raw salt (the CHALLENGE carries it in Base64);
/// `memory` is in KiB (Argon2id only). As in Autobahn, Argon2id's result is used as the text of
/// its unpadded Base64 (43 characters: the hash field of the encoded Argon2 string), PBKDF2's
/// as the 32 raw bytes. Argon2id needs a 16-byte salt (libsodium's crypto_pwhash).
WAMPBOX_API std::string scram_salted_password(scram_kdf kdf, std::string_view password,
                                              std::string_view salt, std::uint32_t iterations,
                                              std::uint32_t memory);

/// WAMP-SCRAM AuthMessage as Autobahn and Crossbar.io build it (no channel binding:
/// "n=AUTHID,r=CLIENT_NONCE,r=SERVER_NONCE,s=SALT_BASE64,i=ITERATIONS,c=,r=SERVER_NONCE").
WAMPBOX_API std::string scram_auth_message(std::string_view authid, std::string_view client_nonce,
                                           std::string_view server_nonce,
                                           std::string_view salt_base64, std::uint32_t iterations);

/// WAMP-SCRAM ClientProof in Base64: ClientKey XOR HMAC(SHA256(ClientKey), AuthMessage), with
/// ClientKey = HMAC(SaltedPassword, "Client Key").
WAMPBOX_API std::string scram_client_proof(std::string_view salted_password,
                                           std::string_view auth_message);

/// WAMP-SCRAM ServerSignature in Base64: HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
WAMPBOX_API std::string scram_server_signature(std::string_view salted_password,
                                               std::string_view auth_message);

}  // namespace wampbox::auth
