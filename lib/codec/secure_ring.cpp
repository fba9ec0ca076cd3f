#include <wampbox/codec/secure_ring.hpp>

#include "ring_file.hpp"
#include "sodium_util.hpp"

#include <wampbox/error.hpp>

#include <sodium.h>

#include <algorithm>
#include <new>
#include <utility>
#include <vector>

namespace wampbox::codec {
namespace {

constexpr std::size_t group_key_size = 32;
constexpr std::size_t seed_size = crypto_sign_SEEDBYTES;  // 32
static_assert(crypto_sign_PUBLICKEYBYTES == identity_public_size);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == group_key_size);

/// Secure memory of `size` bytes (zeroed); throws std::bad_alloc.
unsigned char* secure_alloc(std::size_t size) {
  detail::ensure_sodium();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, size);
  return static_cast<unsigned char*>(p);
}

void secure_free(unsigned char* p) noexcept {
  if (p != nullptr) sodium_free(p);  // sodium_free wipes before unmapping
}

/// The first 8 bytes of BLAKE2b-256(label ‖ data).
short_id hash_id(std::string_view label, const unsigned char* data, std::size_t size) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()),
                            label.size());
  crypto_generichash_update(&st, data, size);
  unsigned char digest[32];
  crypto_generichash_final(&st, digest, sizeof digest);
  short_id id;
  std::copy_n(digest, id.size(), id.begin());
  return id;
}

}  // namespace

namespace detail {

bool from_base64_exact(std::string_view b64, unsigned char* out, std::size_t size) {
  std::vector<unsigned char> buf(size + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  const bool ok = sodium_base642bin(buf.data(), buf.size(), b64.data(), b64.size(), nullptr, &len,
                                    &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
                  end == b64.data() + b64.size() && len == size;
  if (ok) std::copy_n(buf.begin(), size, out);
  sodium_memzero(buf.data(), buf.size());
  if (!ok) sodium_memzero(out, size);
  return ok;
}

}  // namespace detail

std::string to_hex(const short_id& id) {
  char hex[2 * sizeof(short_id) + 1];
  sodium_bin2hex(hex, sizeof hex, id.data(), id.size());
  return std::string(hex, 2 * sizeof(short_id));
}

std::optional<sender_role> sender_role_from_name(std::string_view name) noexcept {
  if (name == "publish") return sender_role::publish;
  if (name == "call") return sender_role::call;
  if (name == "answer") return sender_role::answer;
  return std::nullopt;
}

short_id sender_id_of(const std::array<unsigned char, identity_public_size>& key) {
  return hash_id("wampbox-sec1 sender", key.data(), key.size());
}

// ---------------------------------------------------------------- identity_key

identity_key identity_key::generate() {
  identity_key id;
  id.secret_ = secure_alloc(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(id.public_.data(), id.secret_);
  id.id_ = sender_id_of(id.public_);
  return id;
}

identity_key identity_key::from_seed(std::string_view seed_b64) {
  identity_key id;
  id.secret_ = secure_alloc(crypto_sign_SECRETKEYBYTES);
  unsigned char seed[seed_size];
  const bool ok = detail::from_base64_exact(seed_b64, seed, seed_size);
  if (ok) crypto_sign_seed_keypair(id.public_.data(), id.secret_, seed);
  sodium_memzero(seed, sizeof seed);
  if (!ok) throw error(errc::invalid_key, "an identity seed must be Base64 of 32 bytes");
  id.id_ = sender_id_of(id.public_);
  return id;
}

identity_key::identity_key(identity_key&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)), public_(other.public_), id_(other.id_) {}

identity_key& identity_key::operator=(identity_key&& other) noexcept {
  if (this != &other) {
    secure_free(secret_);
    secret_ = std::exchange(other.secret_, nullptr);
    public_ = other.public_;
    id_ = other.id_;
  }
  return *this;
}

identity_key::~identity_key() { secure_free(secret_); }

std::string identity_key::seed_base64() const {
  return detail::to_base64(secret_, seed_size);  // libsodium's secret key starts with the seed
}

std::string identity_key::public_key_base64() const {
  return detail::to_base64(public_.data(), public_.size());
}

// ---------------------------------------------------------------- group_key

group_key group_key::adopt(const unsigned char* bytes) {
  group_key k;
  k.secret_ = secure_alloc(group_key_size);
  std::copy_n(bytes, group_key_size, k.secret_);
  k.id_ = hash_id("wampbox-sec1 key id", k.secret_, group_key_size);
  return k;
}

group_key group_key::generate() {
  unsigned char bytes[group_key_size];
  detail::ensure_sodium();
  crypto_aead_xchacha20poly1305_ietf_keygen(bytes);
  group_key k = adopt(bytes);
  sodium_memzero(bytes, sizeof bytes);
  return k;
}

group_key group_key::from_base64(std::string_view key_b64) {
  unsigned char bytes[group_key_size];
  if (!detail::from_base64_exact(key_b64, bytes, group_key_size))
    throw error(errc::invalid_key, "a group key must be Base64 of 32 bytes");
  group_key k = adopt(bytes);
  sodium_memzero(bytes, sizeof bytes);
  return k;
}

group_key::group_key(group_key&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)), id_(other.id_) {}

group_key& group_key::operator=(group_key&& other) noexcept {
  if (this != &other) {
    secure_free(secret_);
    secret_ = std::exchange(other.secret_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

group_key::~group_key() { secure_free(secret_); }

std::string group_key::to_base64() const { return detail::to_base64(secret_, group_key_size); }

// ---------------------------------------------------------------- passphrases

passphrase_params new_passphrase_params(unsigned long long opslimit, std::size_t memlimit) {
  detail::ensure_sodium();
  passphrase_params p;
  randombytes_buf(p.salt.data(), p.salt.size());
  p.opslimit = opslimit;
  p.memlimit = memlimit;
  return p;
}

passphrase_master passphrase_master::derive(std::string_view passphrase,
                                            const passphrase_params& params) {
  static_assert(crypto_pwhash_SALTBYTES == sizeof(passphrase_params::salt));
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      params.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN ||
      params.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    throw error(errc::invalid_key, "passphrase opslimit or memlimit outside libsodium's bounds");
  }
  passphrase_master m;
  m.secret_ = secure_alloc(group_key_size);
  if (crypto_pwhash(m.secret_, group_key_size, passphrase.data(), passphrase.size(),
                    params.salt.data(), params.opslimit, params.memlimit,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::bad_alloc();  // the only failure left: Argon2id could not have its memory
  }
  return m;
}

passphrase_master::passphrase_master(passphrase_master&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)) {}

passphrase_master::~passphrase_master() { secure_free(secret_); }

std::string passphrase_master::check_hex() const {
  constexpr std::string_view label = "wampbox-sec1 check";
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(label.data()),
                     label.size(), secret_, group_key_size);
  short_id check;
  std::copy_n(digest, check.size(), check.begin());
  return to_hex(check);
}

group_key passphrase_master::group(std::string_view prefix, std::string_view label) const {
  // Length-prefixed, so that ("a.b", "1") and ("a.b1", "") never give the same input.
  std::string input = "wampbox-sec1 group";
  for (std::string_view part : {prefix, label}) {
    const auto n = static_cast<std::uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) input += static_cast<char>((n >> shift) & 0xff);
    input += part;
  }
  unsigned char bytes[group_key_size];
  crypto_generichash(bytes, sizeof bytes, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), secret_, group_key_size);
  group_key k = group_key::adopt(bytes);
  sodium_memzero(bytes, sizeof bytes);
  return k;
}

// ---------------------------------------------------------------- secure_entry, secure_ring

const secure_entry::versioned_key* secure_entry::sending_key(std::int64_t now_ms) const noexcept {
  const versioned_key* best = nullptr;
  for (const auto& k : keys_) {
    const bool usable = k.validity.valid_from_ms <= now_ms &&
                        (!k.validity.retire_at_ms || *k.validity.retire_at_ms > now_ms);
    if (usable && (best == nullptr || k.validity.valid_from_ms >= best->validity.valid_from_ms))
      best = &k;
  }
  return best;
}

const secure_entry::versioned_key* secure_entry::find_key(const short_id& id) const noexcept {
  for (const auto& k : keys_)
    if (k.key.id() == id) return &k;
  return nullptr;
}

const trusted_sender* secure_entry::find_sender(const short_id& id) const noexcept {
  auto it = senders_.find(id);
  return it != senders_.end() ? &it->second : nullptr;
}

void secure_ring::set_identity(std::string name, identity_key id) {
  identity_name_ = std::move(name);
  identity_ = std::move(id);
}

secure_entry& secure_ring::secure_entry_for(std::string_view prefix) {
  if (cryptobox_.match_length(prefix) == prefix.size()) {
    throw error(errc::invalid_key, "prefix \"" + std::string(prefix) +
                                       "\" is in cryptobox mode; a prefix has one mode only");
  }
  auto it = secure_.find(prefix);
  if (it == secure_.end()) it = secure_.emplace(std::string(prefix), secure_entry{}).first;
  return it->second;
}

void secure_ring::add_secure_prefix(std::string prefix) { secure_entry_for(prefix); }

void secure_ring::add_key(std::string_view prefix, group_key k, key_validity validity) {
  secure_entry& e = secure_entry_for(prefix);
  if (e.find_key(k.id()) != nullptr) {
    throw error(errc::invalid_key,
                "prefix \"" + std::string(prefix) + "\" already has key " + to_hex(k.id()));
  }
  e.keys_.push_back({std::move(k), validity});
}

void secure_ring::trust_sender(std::string_view prefix, std::string name,
                               const std::array<unsigned char, identity_public_size>& public_key,
                               sender_roles roles) {
  secure_entry& e = secure_entry_for(prefix);
  auto [it, added] = e.senders_.try_emplace(sender_id_of(public_key));
  if (added) {
    it->second.name = std::move(name);
    it->second.public_key = public_key;
  } else if (it->second.public_key != public_key) {
    throw error(errc::invalid_key,
                "two senders of prefix \"" + std::string(prefix) + "\" have the same sender id");
  }
  it->second.roles |= roles;
}

void secure_ring::set_cryptobox_key(std::string prefix, key k, key_policy policy) {
  if (secure_.contains(prefix)) {
    throw error(errc::invalid_key,
                "prefix \"" + prefix + "\" is in secure mode; a prefix has one mode only");
  }
  cryptobox_.set_key(std::move(prefix), std::move(k), policy);
}

const secure_entry* secure_ring::entry(std::string_view prefix) const noexcept {
  auto it = secure_.find(prefix);
  return it != secure_.end() ? &it->second : nullptr;
}

const secure_entry* secure_ring::find(std::string_view uri) const noexcept {
  if (secure_.empty()) return nullptr;
  // Candidates longest first: the URI itself, then each prefix ending at or before a '.'.
  const secure_entry* found = nullptr;
  std::size_t found_len = 0;
  for (std::size_t len = uri.size() + 1; len-- > 0;) {
    const bool boundary = len == 0 || len == uri.size() || uri[len - 1] == '.' || uri[len] == '.';
    if (!boundary) continue;
    if (const secure_entry* e = entry(uri.substr(0, len))) {
      found = e;
      found_len = len;
      break;
    }
  }
  if (found == nullptr) return nullptr;
  const auto cryptobox_len = cryptobox_.match_length(uri);
  return cryptobox_len && *cryptobox_len > found_len ? nullptr : found;
}

}  // namespace wampbox::codec
