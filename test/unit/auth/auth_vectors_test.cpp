// WAMP-CRA, WAMP-SCRAM and WAMP-Cryptosign computations against Autobahn|Python: the vectors its
// own code produced (test/data/auth/auth_vectors.out.txt, regenerated and compared at test time
// by the auth-vectors-autobahn suite) and the fixed vectors of its test suite.
#include <wampbox/auth/crypto.hpp>
#include <wampbox/auth/methods.hpp>

#include "../test_data.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace wampbox;
using json = nlohmann::json;

namespace {

/// The lines of auth_vectors.out.txt of one kind; REQUIREs at least one.
std::vector<json> vectors(const std::string& kind) {
  std::ifstream in(test_data::file("auth/auth_vectors.out.txt"));
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    auto v = json::parse(line);
    if (v["kind"] == kind) out.push_back(std::move(v));
  }
  REQUIRE_FALSE(out.empty());
  return out;
}

/// Autobahn's fixed vectors of one kind (a copy: range-for over a temporary's member dangles).
json fixed(const char* kind) {
  std::ifstream in(test_data::file("auth/autobahn_fixed_vectors.json"));
  return json::parse(in).at(kind);
}

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
  return out;
}

std::string base64_decode(const std::string& text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0, value = 0;
  for (char c : text) {
    const auto pos = alphabet.find(c);
    if (pos == std::string::npos) break;
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

auth::scram_kdf kdf_of(const std::string& name) {
  return name == "pbkdf2" ? auth::scram_kdf::pbkdf2 : auth::scram_kdf::argon2id13;
}

}  // namespace

TEST_CASE("WAMP-CRA signature as Autobahn's compute_wcs") {
  for (const auto& v : vectors("wampcra_signature")) {
    CAPTURE(v["key"]);
    CHECK(auth::wampcra_signature(v["key"].get<std::string>(), v["challenge"].get<std::string>()) ==
          v["signature"]);
  }
  for (const auto& v : fixed("wampcra_signature"))
    CHECK(auth::wampcra_signature(v["key"].get<std::string>(), v["challenge"].get<std::string>()) ==
          v["signature"]);
}

TEST_CASE("WAMP-CRA salted key as Autobahn's derive_key, and the signature made with it") {
  for (const auto& v : vectors("wampcra_derive_key")) {
    CAPTURE(v["secret"]);
    CAPTURE(v["keylen"]);
    const auto key = auth::wampcra_derive_key(
        v["secret"].get<std::string>(), v["salt"].get<std::string>(), v["iterations"], v["keylen"]);
    CHECK(key == v["key"]);
    CHECK(auth::wampcra_signature(key, v["challenge"].get<std::string>()) == v["signature"]);
  }
  for (const auto& v : fixed("wampcra_derive_key"))
    CHECK(auth::wampcra_derive_key(v["secret"].get<std::string>(), v["salt"].get<std::string>(),
                                   v["iterations"], v["keylen"]) == v["key"]);
}

TEST_CASE(
    "WAMP-SCRAM salted password, AuthMessage, client proof and server signature as "
    "Autobahn's AuthScram (Argon2id and PBKDF2)") {
  int kdfs_seen = 0;
  for (const auto& v : vectors("scram")) {
    CAPTURE(v["authid"]);
    const auto& c = v["challenge"];
    const std::string kdf = c["kdf"];
    kdfs_seen |= kdf == "pbkdf2" ? 1 : 2;
    const auto salted =
        auth::scram_salted_password(kdf_of(kdf), v["password"].get<std::string>(),
                                    base64_decode(c["salt"]), c["iterations"], c["memory"]);
    CHECK(hex(salted) == v["salted_password_hex"]);
    const auto message = auth::scram_auth_message(
        v["authid"].get<std::string>(), v["client_nonce"].get<std::string>(),
        c["nonce"].get<std::string>(), c["salt"].get<std::string>(), c["iterations"]);
    CHECK(message == v["auth_message"]);
    CHECK(auth::scram_client_proof(salted, message) == v["client_proof"]);
    CHECK(auth::scram_server_signature(salted, message) == v["server_signature"]);
  }
  CHECK(kdfs_seen == 3);
  for (const auto& v : fixed("scram_salted_password")) {
    CAPTURE(v["kdf"]);
    const auto salted = auth::scram_salted_password(
        kdf_of(v["kdf"]), v["password"].get<std::string>(), v["salt"].get<std::string>(),
        v["iterations"], v.value("memory", 0u));
    // Argon2id's salted password is the unpadded Base64 of the raw hash (Autobahn's choice).
    CHECK(hex(v["kdf"] == "pbkdf2" ? salted : base64_decode(salted)) == v["raw_hash_hex"]);
  }
}

TEST_CASE("WAMP-Cryptosign signatures as Autobahn's CryptosignKey.sign_challenge") {
  for (const auto& v : vectors("cryptosign")) {
    const auto key = auth::cryptosign_key::from_hex_seed(v["seed"].get<std::string>());
    CHECK(key.public_key_hex() == v["public_key"]);
    CHECK(key.sign_challenge(v["challenge"].get<std::string>()) == v["signature"]);
    CHECK(key.sign_challenge(v["challenge"].get<std::string>(), unhex(v["channel_id"])) ==
          v["bound_signature"]);
  }
  for (const auto& v : fixed("cryptosign")) {
    const auto key = auth::cryptosign_key::from_hex_seed(v["private_key"].get<std::string>());
    const std::string channel_id = v["channel_id"].is_null() ? "" : unhex(v["channel_id"]);
    CHECK(key.sign_challenge(v["challenge"].get<std::string>(), channel_id) == v["signature"]);
  }
}

TEST_CASE("OpenSSH Ed25519 private keys read as Autobahn's CryptosignKey.from_ssh_file") {
  for (const auto& v : vectors("openssh")) {
    const auto path = test_data::file("auth/" + v["file"].get<std::string>());
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto key = auth::cryptosign_key::from_openssh(text);
    CHECK(key.public_key_hex() == v["public_key"]);
    const auto same = auth::cryptosign_key::from_hex_seed(v["seed"].get<std::string>());
    CHECK(key.sign_challenge(std::string(64, 'a')) == same.sign_challenge(std::string(64, 'a')));
  }
  const auto v = fixed("openssh");
  CHECK(auth::cryptosign_key::from_openssh(v["key"].get<std::string>()).public_key_hex() ==
        v["public_key"]);
}
