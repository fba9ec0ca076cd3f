// WAMP-Cryptosign key loading: every format Autobahn and Crossbar.io use, and a clear refusal
// (errc::invalid_key, never quoting key material) for each way a key file can be wrong.
#include <wampbox/auth/methods.hpp>
#include <wampbox/error.hpp>

#include "../codec/codec_test_util.hpp"
#include "../test_data.hpp"

#include <sodium.h>

#include <fstream>
#include <string>

using namespace wampbox;
using wampbox::codec::test::temp_dir;

namespace {

const std::string seed_hex = "51b8da9164a00b6a1808b6ee2bd065effca69184dd78de1b1cb3e50a5aadd198";
const std::string public_hex = "68934f28d3289cf61a425583b508e74ec65a28ee1cda8d6943191e27b754858c";

/// The pieces of an openssh-key-v1 file, each changeable to make it wrong in one way.
struct openssh_parts {
  std::string magic{"openssh-key-v1\0", 15};
  std::string cipher = "none", kdf = "none";
  std::uint32_t nkeys = 1;
  std::string key_type = "ssh-ed25519";
  std::uint32_t check1 = 0x01020304, check2 = 0x01020304;
  std::string public_key, secret_key, comment = "test";
  bool pad = true;
  std::string trailer;
  std::string outer_public_key;  ///< empty: the same as public_key

  openssh_parts() {
    std::string seed(32, '\0');
    sodium_hex2bin(reinterpret_cast<unsigned char*>(seed.data()), 32, seed_hex.data(),
                   seed_hex.size(), nullptr, nullptr, nullptr);
    public_key.resize(32);
    secret_key.resize(64);
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(public_key.data()),
                             reinterpret_cast<unsigned char*>(secret_key.data()),
                             reinterpret_cast<const unsigned char*>(seed.data()));
  }

  static std::string u32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  }
  static std::string str(const std::string& s) { return u32(std::uint32_t(s.size())) + s; }

  std::string text() const {
    const auto pk = outer_public_key.empty() ? public_key : outer_public_key;
    std::string priv = u32(check1) + u32(check2) + str(key_type) + str(public_key) +
                       str(secret_key) + str(comment);
    for (char i = 1; pad && priv.size() % 8 != 0; ++i) priv += i;
    const std::string blob = magic + str(cipher) + str(kdf) + str("") + u32(nkeys) +
                             str(str("ssh-ed25519") + str(pk)) + str(priv) + trailer;
    std::string b64(sodium_base64_ENCODED_LEN(blob.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(blob.data()),
                      blob.size(), sodium_base64_VARIANT_ORIGINAL);
    b64.pop_back();
    std::string wrapped;
    for (std::size_t i = 0; i < b64.size(); i += 70) wrapped += b64.substr(i, 70) + "\n";
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrapped +
           "-----END OPENSSH PRIVATE KEY-----\n";
  }
};

/// Writes `text` to `name` in `dir` with `mode`; returns the path.
std::filesystem::path write(const temp_dir& dir, const char* name, const std::string& text,
                            std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_write) {
  const auto path = dir.path() / name;
  std::ofstream(path) << text;
  std::filesystem::permissions(path, mode);
  return path;
}

/// The message of the invalid_key error `load` throws; fails when it throws nothing or else.
template <typename Load>
std::string refusal(Load load) {
  try {
    load();
  } catch (const error& e) {
    CHECK(e.code() == make_error_code(errc::invalid_key));
    const std::string what = e.what();
    CHECK(what.find(seed_hex) == std::string::npos);
    return what;
  }
  FAIL("the key was accepted");
  return {};
}

}  // namespace

TEST_CASE("a well-formed OpenSSH key, and the builder the malformed ones come from") {
  CHECK(auth::cryptosign_key::from_openssh(openssh_parts{}.text()).public_key_hex() == public_hex);
}

TEST_CASE("malformed OpenSSH private keys are refused, each with its reason") {
  struct bad_case {
    const char* reason;
    std::function<void(openssh_parts&)> spoil;
  };
  const std::vector<bad_case> cases = {
      {"openssh-key-v1",
       [](openssh_parts& p) {
         p.magic = "openssh-key-v2";
         p.magic += '\0';
       }},
      {"passphrase", [](openssh_parts& p) { p.cipher = "aes256-ctr"; }},
      {"passphrase", [](openssh_parts& p) { p.kdf = "bcrypt"; }},
      {"exactly one key", [](openssh_parts& p) { p.nkeys = 2; }},
      {"Ed25519", [](openssh_parts& p) { p.key_type = "ssh-rsa"; }},
      {"check bytes", [](openssh_parts& p) { p.check2 = 7; }},
      {"inconsistent", [](openssh_parts& p) { p.secret_key.resize(32); }},
      {"inconsistent", [](openssh_parts& p) { p.outer_public_key = std::string(32, 'x'); }},
      {"does not belong",
       [](openssh_parts& p) {
         p.public_key[0] ^= 1;
         std::copy(p.public_key.begin(), p.public_key.end(), p.secret_key.begin() + 32);
       }},
      {"padded",
       [](openssh_parts& p) {
         p.pad = false;
         p.comment = "x";
       }},
      {"trailing", [](openssh_parts& p) { p.trailer = "x"; }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.reason);
    openssh_parts p;
    c.spoil(p);
    CHECK(refusal([&] { auth::cryptosign_key::from_openssh(p.text()); }).find(c.reason) !=
          std::string::npos);
  }
  const auto good = openssh_parts{}.text();
  CHECK(refusal([&] {
          auth::cryptosign_key::from_openssh(good.substr(0, good.size() / 2));
        }).find("BEGIN/END") != std::string::npos);
  auto corrupt = good;
  corrupt[50] = '*';
  CHECK(refusal([&] { auth::cryptosign_key::from_openssh(corrupt); }).find("Base64") !=
        std::string::npos);
  // Cut inside the blob, re-encoded: a length field points past the end.
  openssh_parts truncated;
  truncated.comment = std::string(300, 'c');
  auto text = truncated.text();
  const auto cut = text.find('\n', 120);
  text = text.substr(0, cut + 1) + "-----END OPENSSH PRIVATE KEY-----";
  CHECK(refusal([&] { auth::cryptosign_key::from_openssh(text); }).find("truncated") !=
        std::string::npos);
  CHECK(refusal([] { auth::cryptosign_key::from_openssh(""); }).find("BEGIN/END") !=
        std::string::npos);
}

TEST_CASE("hex seeds: exactly 64 hex digits") {
  CHECK(auth::cryptosign_key::from_hex_seed(seed_hex).public_key_hex() == public_hex);
  CHECK(auth::cryptosign_key::from_hex_seed(" " + seed_hex + "\n").public_key_hex() == public_hex);
  for (const std::string& bad :
       {seed_hex.substr(2), seed_hex + "00", "zz" + seed_hex.substr(2), std::string()})
    CHECK(refusal([&] { auth::cryptosign_key::from_hex_seed(bad); }).find("64 hex digits") !=
          std::string::npos);
}

TEST_CASE("key files: OpenSSH, Crossbar.io/Autobahn key file, bare hex seed; owner-only") {
  temp_dir dir;
  const auto openssh = write(dir, "id_ed25519", openssh_parts{}.text());
  CHECK(auth::cryptosign_key::from_openssh_file(openssh).public_key_hex() == public_hex);
  CHECK(auth::cryptosign_key::from_file(openssh).public_key_hex() == public_hex);
  const auto keyfile = write(dir, "client.key",
                             "comment line\n\npublic-key-ed25519: " + public_hex +
                                 "\nprivate-key-ed25519: " + seed_hex + "\n");
  CHECK(auth::cryptosign_key::from_file(keyfile).public_key_hex() == public_hex);
  const auto bare = write(dir, "seed.hex", seed_hex + "\n");
  CHECK(auth::cryptosign_key::from_file(bare).public_key_hex() == public_hex);

  const auto public_only = write(dir, "client.pub", "public-key-ed25519: " + public_hex + "\n");
  CHECK(refusal([&] { auth::cryptosign_key::from_file(public_only); }).find("no private-key") !=
        std::string::npos);
  CHECK(refusal([&] { auth::cryptosign_key::from_openssh_file(keyfile); }).find("BEGIN/END") !=
        std::string::npos);

  const auto shared =
      write(dir, "shared", seed_hex,
            std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  try {
    auth::cryptosign_key::from_file(shared);
    FAIL("a group-readable key file was accepted");
  } catch (const error& e) {
    CHECK(e.code() == boost::system::errc::permission_denied);
    CHECK(std::string(e.what()).find("chmod 600") != std::string::npos);
  }
  CHECK_THROWS_AS(auth::cryptosign_key::from_file(dir.path() / "missing"), error);
  CHECK_THROWS_AS(auth::cryptosign_key::from_file(dir.path()), error);
}
