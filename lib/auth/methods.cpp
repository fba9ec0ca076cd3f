// The WAMP authentication methods: anonymous, ticket, WAMP-CRA, WAMP-Cryptosign, WAMP-SCRAM.
#include <wampbox/auth/crypto.hpp>
#include <wampbox/auth/methods.hpp>

#include "auth_internal.hpp"

#include "../codec/sodium_util.hpp"

#include <wampbox/error.hpp>

#include <array>
#include <optional>

namespace wampbox::auth {
namespace {

// Bounds on the work a router may ask for: a rogue router must not make the client spend
// minutes or gigabytes (the KDF runs on the session's executor).
constexpr std::uint32_t max_pbkdf2_iterations = 10'000'000;
constexpr std::uint32_t max_argon2_iterations = 16'384;
constexpr std::uint32_t max_argon2_memory_kib = 1024 * 1024;
/// Passes times KiB: 8 GiB of memory passes (Crossbar.io's default, 4096 x 512 KiB, is 2 GiB;
/// libsodium's "sensitive" level, 4 x 1 GiB, is 4 GiB).
constexpr std::uint64_t max_argon2_work = std::uint64_t(8) * 1024 * 1024;
constexpr std::size_t max_wampcra_keylen = 1024;

[[noreturn]] void refuse(const std::string& what) {
  throw error(errc::authentication_failed, what);
}

/// CHALLENGE.extra[key] as a string; refuses when absent or not a string.
std::string string_field(const value& extra, const char* method, const char* key) {
  if (!extra.is_object() || !extra.contains(key) || !extra[key].is_string())
    refuse(std::string(method) + " CHALLENGE has no string '" + key + "'");
  return extra[key].get<std::string>();
}

/// CHALLENGE.extra[key] as a positive integer of at most `max`; `fallback` when absent.
std::uint32_t count_field(const value& extra, const char* method, const char* key,
                          std::uint32_t max, std::optional<std::uint32_t> fallback = {}) {
  if (extra.is_object() && extra.contains(key) && !extra[key].is_null()) {
    const auto& v = extra[key];
    if (v.is_number_unsigned() && v.get<std::uint64_t>() >= 1 && v.get<std::uint64_t>() <= max)
      return static_cast<std::uint32_t>(v.get<std::uint64_t>());
    refuse(std::string(method) + " CHALLENGE '" + key + "' must be an integer in 1.." +
           std::to_string(max));
  }
  if (!fallback) refuse(std::string(method) + " CHALLENGE has no '" + key + "'");
  return *fallback;
}

/// An exchange made of a function answering each challenge.
class simple_exchange : public exchange {
 public:
  using responder = std::function<void(const challenge&, reply)>;
  simple_exchange(responder respond, value authextra = value::object())
      : respond_(std::move(respond)), authextra_(std::move(authextra)) {}
  value hello_authextra() const override { return authextra_; }
  void respond(const challenge& c, reply r) override { respond_(c, std::move(r)); }

 private:
  responder respond_;
  value authextra_;
};

/// An authenticator whose every join answers with `respond` and announces `authextra`.
authenticator simple(std::string method, std::string authid, simple_exchange::responder respond,
                     value authextra = value::object()) {
  return authenticator(std::move(method), std::move(authid),
                       [respond = std::move(respond), authextra](const channel&) {
                         return std::make_unique<simple_exchange>(respond, authextra);
                       });
}

/// WAMP-SCRAM's per-join state: the client nonce, and after the challenge what WELCOME proves.
class scram_exchange : public exchange {
 public:
  scram_exchange(std::string authid, secret password)
      : authid_(std::move(authid)), password_(std::move(password)) {
    std::array<unsigned char, 16> raw{};
    randombytes_buf(raw.data(), raw.size());
    client_nonce_ = detail::to_base64({reinterpret_cast<const char*>(raw.data()), raw.size()});
  }
  ~scram_exchange() override { sodium_memzero(salted_.data(), salted_.size()); }

  value hello_authextra() const override { return value{{"nonce", client_nonce_}}; }

  void respond(const challenge& c, reply r) override {
    const auto server_nonce = string_field(c.extra, "WAMP-SCRAM", "nonce");
    if (!extends_client_nonce(server_nonce))
      refuse("WAMP-SCRAM CHALLENGE nonce does not begin with the client's nonce");
    const auto salt_b64 = string_field(c.extra, "WAMP-SCRAM", "salt");
    auto salt = detail::from_base64(salt_b64);
    if (!salt) refuse("WAMP-SCRAM CHALLENGE salt is not Base64");
    const auto kdf_name = string_field(c.extra, "WAMP-SCRAM", "kdf");
    std::uint32_t iterations = 0, memory = 0;
    scram_kdf kdf{};
    if (kdf_name == "argon2id-13" || kdf_name == "argon2id13") {
      kdf = scram_kdf::argon2id13;
      iterations = count_field(c.extra, "WAMP-SCRAM", "iterations", max_argon2_iterations);
      memory = count_field(c.extra, "WAMP-SCRAM", "memory", max_argon2_memory_kib);
      if (std::uint64_t(iterations) * memory > max_argon2_work)
        refuse("WAMP-SCRAM CHALLENGE asks for more Argon2id work than allowed (" +
               std::to_string(iterations) + " passes over " + std::to_string(memory) + " KiB)");
    } else if (kdf_name == "pbkdf2") {
      kdf = scram_kdf::pbkdf2;
      iterations = count_field(c.extra, "WAMP-SCRAM", "iterations", max_pbkdf2_iterations);
    } else {
      refuse("WAMP-SCRAM CHALLENGE names an unknown KDF '" + kdf_name + "'");
    }
    try {
      salted_ = scram_salted_password(kdf, password_.reveal(), *salt, iterations, memory);
    } catch (const error& e) {
      refuse(std::string("WAMP-SCRAM: ") + e.what());  // the router's parameters do not work
    }
    auth_message_ = scram_auth_message(authid_, client_nonce_, server_nonce, salt_b64, iterations);
    r.answer(scram_client_proof(salted_, auth_message_), value{{"nonce", server_nonce}});
  }

  void verify_welcome(const value& authextra) override {
    if (salted_.empty()) return;  // no challenge was answered: nothing to check
    if (!authextra.is_object() || !authextra.contains("scram_server_signature") ||
        !authextra["scram_server_signature"].is_string())
      refuse("the router's WELCOME lacks the WAMP-SCRAM server signature");
    const auto expected = scram_server_signature(salted_, auth_message_);
    const auto& got = authextra["scram_server_signature"].get_ref<const std::string&>();
    if (got.size() != expected.size() ||
        sodium_memcmp(got.data(), expected.data(), expected.size()) != 0)
      refuse(
          "the router's WAMP-SCRAM server signature is wrong: it does not know the "
          "credentials");
  }

 private:
  /// The server nonce extends ours: as text (the WAMP spec) or as bytes (Crossbar.io appends
  /// its random bytes to the decoded client nonce and encodes the whole).
  bool extends_client_nonce(const std::string& server_nonce) const {
    if (server_nonce.size() > client_nonce_.size() &&
        server_nonce.compare(0, client_nonce_.size(), client_nonce_) == 0)
      return true;
    const auto server = detail::from_base64(server_nonce);
    const auto client = detail::from_base64(client_nonce_);
    return server && client && server->size() > client->size() &&
           server->compare(0, client->size(), *client) == 0;
  }

  std::string authid_;
  secret password_;
  std::string client_nonce_;
  std::string salted_;
  std::string auth_message_;
};

bool printable_ascii(const std::string& s) {
  for (const char ch : s)
    if (ch < 0x20 || ch > 0x7e) return false;
  return true;
}

}  // namespace

authenticator anonymous(std::string authid) {
  return simple("anonymous", std::move(authid), [](const challenge&, reply) {
    refuse("the router sent a CHALLENGE for anonymous authentication");
  });
}

authenticator ticket(std::string authid, secret ticket) {
  return simple("ticket", std::move(authid),
                [ticket](const challenge&, reply r) { r.answer(std::string(ticket.reveal())); });
}

authenticator wampcra(std::string authid, secret secret) {
  if (authid.empty()) throw error(errc::invalid_key, "WAMP-CRA needs an authid");
  return simple("wampcra", std::move(authid), [secret](const challenge& c, reply r) {
    const auto text = string_field(c.extra, "WAMP-CRA", "challenge");
    if (!c.extra.contains("salt")) {
      r.answer(wampcra_signature(secret.reveal(), text));
      return;
    }
    const auto salt = string_field(c.extra, "WAMP-CRA", "salt");
    const auto iterations =
        count_field(c.extra, "WAMP-CRA", "iterations", max_pbkdf2_iterations, 1000);
    const auto keylen = count_field(c.extra, "WAMP-CRA", "keylen", max_wampcra_keylen, 32);
    std::string key = wampcra_derive_key(secret.reveal(), salt, iterations, keylen);
    const detail::scoped_wipe wipe_key(key);
    r.answer(wampcra_signature(key, text));
  });
}

authenticator cryptosign(std::string authid, cryptosign_key key) {
  return authenticator("cryptosign", std::move(authid), [key](const channel& ch) {
    value authextra{{"pubkey", key.public_key_hex()}};
    std::string channel_id;
    if (!ch.tls_unique.empty()) {
      // As Autobahn's transport_channel_id: the channel id is SHA-256 of the tls-unique data.
      channel_id.resize(crypto_hash_sha256_BYTES);
      crypto_hash_sha256(reinterpret_cast<unsigned char*>(channel_id.data()),
                         reinterpret_cast<const unsigned char*>(ch.tls_unique.data()),
                         ch.tls_unique.size());
      authextra["channel_binding"] = "tls-unique";
    }
    return std::make_unique<simple_exchange>(
        [key, channel_id](const challenge& c, reply r) {
          r.answer(key.sign_challenge(string_field(c.extra, "WAMP-Cryptosign", "challenge"),
                                      channel_id));
        },
        std::move(authextra));
  });
}

authenticator scram(std::string authid, secret password) {
  if (authid.empty() || !printable_ascii(authid))
    throw error(errc::invalid_key, "WAMP-SCRAM needs an authid of printable ASCII characters");
  return authenticator("scram", authid, [authid, password](const channel&) {
    return std::make_unique<scram_exchange>(authid, password);
  });
}

authenticator custom(std::string method, std::string authid,
                     std::function<void(const challenge&, reply)> respond) {
  if (!respond) throw error(errc::invalid_message, "custom authentication needs a handler");
  return simple(std::move(method), std::move(authid), std::move(respond));
}

}  // namespace wampbox::auth
