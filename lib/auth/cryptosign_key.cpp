// WAMP-Cryptosign keys: Ed25519 through libsodium, loaded from a hex seed, an OpenSSH private
// key or a Crossbar.io/Autobahn key file.
#include <wampbox/auth/methods.hpp>

#include "auth_internal.hpp"

#include "../codec/sodium_util.hpp"
#include "../private_file.hpp"

#include <wampbox/error.hpp>

#include <cstdint>

namespace wampbox::auth {
namespace {

const std::string_view openssh_begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
const std::string_view openssh_end = "-----END OPENSSH PRIVATE KEY-----";
const std::string_view openssh_magic{"openssh-key-v1\0", 15};
constexpr std::size_t seed_size = crypto_sign_SEEDBYTES;

[[noreturn]] void invalid(const std::string& what) {
  throw error(errc::invalid_key, "WAMP-Cryptosign key: " + what);
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

/// The key pair of a 32-byte seed.
std::shared_ptr<const detail::ed25519_secret_key> from_seed(std::string_view seed) {
  codec::detail::ensure_sodium();
  if (seed.size() != seed_size) invalid("the seed must be 32 bytes");
  auto key = std::make_shared<detail::ed25519_secret_key>();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_seed_keypair(pk.data(), key->sk.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return key;
}

/// Reads the SSH wire encoding (RFC 4251: uint32 and length-prefixed strings) of a blob.
class ssh_reader {
 public:
  explicit ssh_reader(std::string_view blob) : rest_(blob) {}
  std::uint32_t uint32() {
    const auto b = take(4);
    return (std::uint32_t(std::uint8_t(b[0])) << 24) | (std::uint32_t(std::uint8_t(b[1])) << 16) |
           (std::uint32_t(std::uint8_t(b[2])) << 8) | std::uint32_t(std::uint8_t(b[3]));
  }
  std::string_view string() { return take(uint32()); }
  std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view take(std::size_t n) {
    if (n > rest_.size()) invalid("OpenSSH private key is truncated");
    const auto out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  std::string_view rest_;
};

/// The seed of an unencrypted OpenSSH Ed25519 private key (the checks of OpenSSH's sshkey.c).
std::string openssh_seed(std::string_view text) {
  text = trim(text);
  if (text.substr(0, openssh_begin.size()) != openssh_begin ||
      text.size() < openssh_begin.size() + openssh_end.size() ||
      text.substr(text.size() - openssh_end.size()) != openssh_end)
    invalid("not an OpenSSH private key (no -----BEGIN/END OPENSSH PRIVATE KEY----- lines)");
  const auto body =
      text.substr(openssh_begin.size(), text.size() - openssh_begin.size() - openssh_end.size());
  std::string blob(body.size(), '\0');
  const detail::scoped_wipe wipe_blob(blob);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(blob.data()), blob.size(), body.data(),
                        body.size(), " \t\r\n", &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != body.data() + body.size())
    invalid("OpenSSH private key is not valid Base64");
  const std::string_view data(blob.data(), len);
  if (data.substr(0, openssh_magic.size()) != openssh_magic)
    invalid("not an openssh-key-v1 private key");
  ssh_reader outer(data.substr(openssh_magic.size()));
  const auto cipher = outer.string();
  const auto kdf = outer.string();
  outer.string();  // KDF options: empty without a KDF
  if (cipher != "none" || kdf != "none")
    invalid("the OpenSSH private key is encrypted; remove its passphrase (ssh-keygen -p -N '')");
  if (outer.uint32() != 1) invalid("the OpenSSH file must hold exactly one key");
  ssh_reader public_blob(outer.string());
  const auto private_section = outer.string();
  if (!outer.rest().empty()) invalid("OpenSSH private key has trailing data");
  if (public_blob.string() != "ssh-ed25519")
    invalid("not an Ed25519 key (WAMP-Cryptosign needs ssh-ed25519)");
  const auto public_key = public_blob.string();
  if (private_section.size() % 8 != 0) invalid("OpenSSH private section is not padded to 8 bytes");
  ssh_reader priv(private_section);
  if (priv.uint32() != priv.uint32()) invalid("OpenSSH private key check bytes differ (corrupt)");
  if (priv.string() != "ssh-ed25519")
    invalid("not an Ed25519 key (WAMP-Cryptosign needs ssh-ed25519)");
  const auto pk = priv.string();
  const auto sk = priv.string();
  priv.string();  // the comment
  const auto padding = priv.rest();
  for (std::size_t i = 0; i < padding.size(); ++i)
    if (std::uint8_t(padding[i]) != i + 1) invalid("OpenSSH private key padding is corrupt");
  if (pk.size() != crypto_sign_PUBLICKEYBYTES || sk.size() != crypto_sign_SECRETKEYBYTES ||
      pk != public_key || sk.substr(seed_size) != pk)
    invalid("OpenSSH Ed25519 key parts are inconsistent");
  std::string seed(sk.substr(0, seed_size));
  const auto key = from_seed(seed);
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> derived{};
  crypto_sign_ed25519_sk_to_pk(derived.data(), key->sk.data());
  if (sodium_memcmp(derived.data(), pk.data(), derived.size()) != 0) {
    sodium_memzero(seed.data(), seed.size());
    invalid("the OpenSSH public key does not belong to its private key");
  }
  return seed;
}

/// The seed of 64 hex digits.
std::string hex_seed(std::string_view hex) {
  auto seed = detail::from_hex(trim(hex));
  if (!seed || seed->size() != seed_size) {
    if (seed) sodium_memzero(seed->data(), seed->size());
    invalid("a seed must be 64 hex digits (32 bytes)");
  }
  return std::move(*seed);
}

/// The hex seed of a Crossbar.io/Autobahn key file ("tag: value" lines), if it has one.
std::optional<std::string_view> keyfile_seed_hex(std::string_view text) {
  const std::string_view tag = "private-key-ed25519:";
  for (std::size_t pos = 0; pos < text.size();) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const auto line = trim(text.substr(pos, eol - pos));
    if (line.substr(0, tag.size()) == tag) return line.substr(tag.size());
    pos = eol + 1;
  }
  return std::nullopt;
}

}  // namespace

cryptosign_key::cryptosign_key(std::shared_ptr<const detail::ed25519_secret_key> key)
    : key_(std::move(key)) {}

cryptosign_key cryptosign_key::from_hex_seed(std::string_view hex) {
  std::string seed = hex_seed(hex);
  const detail::scoped_wipe wipe_seed(seed);
  return cryptosign_key(from_seed(seed));
}

cryptosign_key cryptosign_key::from_openssh(std::string_view text) {
  std::string seed = openssh_seed(text);
  const detail::scoped_wipe wipe_seed(seed);
  return cryptosign_key(from_seed(seed));
}

cryptosign_key cryptosign_key::from_openssh_file(const std::filesystem::path& path) {
  std::string text = wampbox::detail::read_private_file(path, "private key file", true);
  const detail::scoped_wipe wipe_text(text);
  return from_openssh(text);
}

cryptosign_key cryptosign_key::from_file(const std::filesystem::path& path) {
  std::string text = wampbox::detail::read_private_file(path, "private key file", true);
  const detail::scoped_wipe wipe_text(text);
  if (trim(text).substr(0, openssh_begin.size()) == openssh_begin) return from_openssh(text);
  if (const auto hex = keyfile_seed_hex(text)) return from_hex_seed(*hex);
  if (text.find(':') != std::string::npos)
    invalid(path.string() + " holds no private-key-ed25519 (a public key file?)");
  return from_hex_seed(text);
}

std::string cryptosign_key::public_key_hex() const {
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_ed25519_sk_to_pk(pk.data(), key_->sk.data());
  return detail::to_hex({reinterpret_cast<const char*>(pk.data()), pk.size()});
}

std::string cryptosign_key::sign_challenge(std::string_view challenge_hex,
                                           std::string_view channel_id) const {
  auto message = detail::from_hex(challenge_hex);
  if (!message || message->size() != 32)
    throw error(errc::authentication_failed,
                "WAMP-Cryptosign challenge must be 64 hex digits (32 bytes)");
  if (!channel_id.empty()) {
    if (channel_id.size() != message->size())
      throw error(errc::authentication_failed, "WAMP-Cryptosign channel id must be 32 bytes");
    for (std::size_t i = 0; i < message->size(); ++i) (*message)[i] ^= channel_id[i];
  }
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message->data()), message->size(),
                       key_->sk.data());
  return detail::to_hex({reinterpret_cast<const char*>(signature.data()), signature.size()}) +
         detail::to_hex(*message);
}

}  // namespace wampbox::auth
