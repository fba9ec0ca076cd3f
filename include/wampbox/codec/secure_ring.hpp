// wampbox — the key ring of secure mode (`x_wampbox_v1`, docs/secure-mode.md), which also holds
// the cryptobox prefixes used for Autobahn interop.
//
// Per URI prefix, a `secure_ring` says which of the two wire modes applies; a prefix is in one
// mode or the other, never both. Secure prefixes match on URI component boundaries
// (`com.example.top` covers `com.example.top` and `com.example.top.x`, not `com.example.topology`;
// a prefix ending in "." covers what starts with it); cryptobox prefixes keep Autobahn's
// character-wise matching. For a URI, the longest matching prefix of either kind decides.
//
// A secure prefix holds group keys (each with a key id and a validity period) and the senders
// whose Ed25519 signatures are accepted there, each for some roles (publish, call, answer). The
// ring holds this peer's own identity (an Ed25519 key) to sign with. Secrets live in
// sodium_malloc'd memory (guard pages, wiped on free) and are never printed.
//
// Building keys throws std::runtime_error when libsodium cannot be initialised and
// std::bad_alloc when secure memory cannot be had, besides the errors each function names.
#pragma once

#include <wampbox/codec/key_ring.hpp>
#include <wampbox/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wampbox::codec {

/// A key id or sender id: 8 bytes of a BLAKE2b-256 hash (docs/secure-mode.md).
using short_id = std::array<unsigned char, 8>;

/// Lower-case hex of a key or sender id (16 digits, as in `enc_key`).
WAMPBOX_API std::string to_hex(const short_id& id);

/// Size of an Ed25519 public key.
inline constexpr std::size_t identity_public_size = 32;

/// What a trusted sender may send on a secure prefix (bits of `sender_roles`).
enum class sender_role : unsigned {
  publish = 1,  ///< PUBLISH (received as EVENT)
  call = 2,     ///< CALL (received as INVOCATION)
  answer = 4,   ///< YIELD and ERROR (received as RESULT and ERROR)
};

/// A set of sender roles, e.g. `roles_of({sender_role::call, sender_role::answer})`.
using sender_roles = unsigned;

/// The set of the given roles.
constexpr sender_roles roles_of(std::initializer_list<sender_role> roles) noexcept {
  sender_roles set = 0;
  for (sender_role r : roles) set |= static_cast<unsigned>(r);
  return set;
}

/// Parses "publish", "call" or "answer"; empty when the name is none of them.
WAMPBOX_API std::optional<sender_role> sender_role_from_name(std::string_view name) noexcept;

/// A peer's Ed25519 identity: the secret key it signs with. Move-only.
class WAMPBOX_API identity_key {
 public:
  /// A new random identity.
  static identity_key generate();
  /// The identity of a 32-byte seed in Base64; throws `error` (errc::invalid_key) when it is
  /// not Base64 of 32 bytes.
  static identity_key from_seed(std::string_view seed_b64);

  /// Takes the secret of `other`, which is left empty.
  identity_key(identity_key&& other) noexcept;
  /// Wipes this identity's secret, then takes that of `other`.
  identity_key& operator=(identity_key&& other) noexcept;
  identity_key(const identity_key&) = delete;
  identity_key& operator=(const identity_key&) = delete;
  /// Wipes and frees the secret.
  ~identity_key();

  /// The seed in Base64: SECRET, for writing ring files only.
  std::string seed_base64() const;
  /// The Ed25519 public key.
  const std::array<unsigned char, identity_public_size>& public_key() const noexcept {
    return public_;
  }
  /// The Ed25519 public key in Base64.
  std::string public_key_base64() const;
  /// The sender id that payloads signed by this identity carry.
  const short_id& sender_id() const noexcept { return id_; }
  /// The 64-byte libsodium secret key, for the codec's use: never copy it out.
  const unsigned char* secret_key() const noexcept { return secret_; }

 private:
  identity_key() = default;
  unsigned char* secret_ = nullptr;  // sodium_malloc'd crypto_sign secret key (seed ‖ public)
  std::array<unsigned char, identity_public_size> public_{};
  short_id id_{};
};

/// The sender id of an Ed25519 public key: BLAKE2b-256("wampbox-sec1 sender" ‖ key), 8 bytes.
WAMPBOX_API short_id sender_id_of(const std::array<unsigned char, identity_public_size>& key);

/// A 32-byte group key of a secure prefix, with its key id. Move-only.
class WAMPBOX_API group_key {
 public:
  /// A new random key.
  static group_key generate();
  /// A key from Base64 of 32 bytes; throws `error` (errc::invalid_key) otherwise.
  static group_key from_base64(std::string_view key_b64);

  /// Takes the secret of `other`, which is left empty.
  group_key(group_key&& other) noexcept;
  /// Wipes this key's secret, then takes that of `other`.
  group_key& operator=(group_key&& other) noexcept;
  group_key(const group_key&) = delete;
  group_key& operator=(const group_key&) = delete;
  /// Wipes and frees the secret.
  ~group_key();

  /// The key in Base64: SECRET, for writing ring files only.
  std::string to_base64() const;
  /// The key id: BLAKE2b-256("wampbox-sec1 key id" ‖ key), 8 bytes (reveals nothing of the key).
  const short_id& id() const noexcept { return id_; }
  /// The 32 secret bytes, for the codec's use: never copy them out.
  const unsigned char* secret() const noexcept { return secret_; }

 private:
  friend class passphrase_master;
  group_key() = default;
  static group_key adopt(const unsigned char* bytes);
  unsigned char* secret_ = nullptr;  // sodium_malloc'd, 32 bytes
  short_id id_{};
};

/// Salt and Argon2id cost of a passphrase ring; written in the ring file (not secret).
struct passphrase_params {
  std::array<unsigned char, 16> salt{};  ///< random per ring, shared by the peers of a group
  unsigned long long opslimit = 2;       ///< crypto_pwhash opslimit (INTERACTIVE: 2)
  std::size_t memlimit = 64u << 20;      ///< crypto_pwhash memlimit in bytes (INTERACTIVE: 64 MiB)
};

/// Fresh parameters: a random salt and the given cost.
WAMPBOX_API passphrase_params new_passphrase_params(unsigned long long opslimit = 2,
                                                    std::size_t memlimit = 64u << 20);

/// The master key of a passphrase ring: Argon2id (crypto_pwhash, ALG_ARGON2ID13) of the
/// passphrase with the ring's salt and cost. Move-only, wiped.
class WAMPBOX_API passphrase_master {
 public:
  /// Derives the master key. Throws `error` (errc::invalid_key) when the cost is outside
  /// libsodium's bounds, std::bad_alloc when Argon2id cannot have its memory.
  static passphrase_master derive(std::string_view passphrase, const passphrase_params& params);

  /// Takes the secret of `other`, which is left empty.
  passphrase_master(passphrase_master&& other) noexcept;
  passphrase_master& operator=(passphrase_master&&) = delete;
  passphrase_master(const passphrase_master&) = delete;
  passphrase_master& operator=(const passphrase_master&) = delete;
  /// Wipes and frees the secret.
  ~passphrase_master();

  /// The check value written in the ring file (16 hex digits): tells a wrong passphrase at load
  /// time. It reveals no more than the key ids on the wire already do.
  std::string check_hex() const;
  /// Group key `label` of `prefix`: BLAKE2b-256(key = master, "wampbox-sec1 group" ‖ len ‖
  /// prefix ‖ len ‖ label).
  group_key group(std::string_view prefix, std::string_view label) const;

 private:
  passphrase_master() = default;
  unsigned char* secret_ = nullptr;  // sodium_malloc'd, 32 bytes
};

/// When a group key may be used, in milliseconds since the Unix epoch.
struct key_validity {
  std::int64_t valid_from_ms = 0;            ///< senders use it from then on
  std::optional<std::int64_t> retire_at_ms;  ///< from then on it is refused (key_retired)
};

/// A sender trusted on a secure prefix.
struct trusted_sender {
  std::string name;                                              ///< as the application sees it
  std::array<unsigned char, identity_public_size> public_key{};  ///< Ed25519
  sender_roles roles = 0;                                        ///< what it may send here
};

/// What a secure ring holds for one secure prefix.
class WAMPBOX_API secure_entry {
 public:
  /// A group key and its validity.
  struct versioned_key {
    group_key key;          ///< the key and its id
    key_validity validity;  ///< when it may be used
  };

  /// The key senders use at `now_ms`: of the keys whose `valid_from` has passed and that are
  /// not retired, the one valid from the latest time; nullptr when there is none.
  const versioned_key* sending_key(std::int64_t now_ms) const noexcept;
  /// The key with id `id`, retired or not; nullptr when unknown.
  const versioned_key* find_key(const short_id& id) const noexcept;
  /// The sender with id `id`; nullptr when not listed.
  const trusted_sender* find_sender(const short_id& id) const noexcept;
  /// Every key, in the order added.
  const std::vector<versioned_key>& keys() const noexcept { return keys_; }
  /// Every trusted sender, by sender id.
  const std::map<short_id, trusted_sender>& senders() const noexcept { return senders_; }

 private:
  friend class secure_ring;
  std::vector<versioned_key> keys_;
  std::map<short_id, trusted_sender> senders_;
};

/// Secure prefixes, cryptobox prefixes and this peer's identity. Move-only.
class WAMPBOX_API secure_ring {
 public:
  /// An empty ring: every URI travels in plaintext.
  secure_ring() = default;
  /// A ring whose prefixes are all in cryptobox mode (an existing cryptobox ring).
  explicit secure_ring(key_ring cryptobox) : cryptobox_(std::move(cryptobox)) {}

  /// Sets this peer's identity, and the name it goes by.
  void set_identity(std::string name, identity_key id);
  /// This peer's identity, or nullptr (it can then receive, not send, in secure mode).
  const identity_key* identity() const noexcept { return identity_ ? &*identity_ : nullptr; }
  /// The name of this peer's identity.
  const std::string& identity_name() const noexcept { return identity_name_; }

  /// Puts `prefix` in secure mode (no effect when it is already). Throws `error`
  /// (errc::invalid_key) when it is a cryptobox prefix of this ring.
  void add_secure_prefix(std::string prefix);
  /// Adds a group key to a secure prefix (made secure if it is not yet). Throws `error`
  /// (errc::invalid_key) when the prefix is in cryptobox mode or already has a key with that id.
  void add_key(std::string_view prefix, group_key k, key_validity validity = {});
  /// Lists a sender on a secure prefix (made secure if it is not yet), or adds roles to it.
  /// Throws `error` (errc::invalid_key) when the prefix is in cryptobox mode.
  void trust_sender(std::string_view prefix, std::string name,
                    const std::array<unsigned char, identity_public_size>& public_key,
                    sender_roles roles);

  /// Sets a cryptobox key (as `key_ring::set_key`). Throws `error` (errc::invalid_key) when the
  /// prefix is in secure mode.
  void set_cryptobox_key(std::string prefix, key k, key_policy policy = key_policy::strict);
  /// The cryptobox prefixes.
  const key_ring& cryptobox() const noexcept { return cryptobox_; }

  /// The secure entry that governs `uri`: that of its longest secure prefix, unless a longer
  /// cryptobox prefix matches it; nullptr when the URI is not in secure mode.
  const secure_entry* find(std::string_view uri) const noexcept;
  /// The entry of exactly `prefix`, or nullptr.
  const secure_entry* entry(std::string_view prefix) const noexcept;
  /// Every secure prefix.
  const std::map<std::string, secure_entry, std::less<>>& secure_prefixes() const noexcept {
    return secure_;
  }

 private:
  secure_entry& secure_entry_for(std::string_view prefix);

  key_ring cryptobox_;
  std::map<std::string, secure_entry, std::less<>> secure_;
  std::optional<identity_key> identity_;
  std::string identity_name_;
};

/// Parses a key-ring document: the cryptobox format of `parse_key_ring` (all prefixes in
/// cryptobox mode), or the version 2 format of docs/secure-mode.md ("Ring file"), which has
/// secure prefixes, an identity and optionally passphrase-derived keys. `passphrase` is needed
/// when the document derives keys from one. Throws `error` (errc::invalid_key) naming the field at
/// fault (a wrong passphrase included), never a secret.
WAMPBOX_API secure_ring parse_secure_ring(std::string_view json_text,
                                          std::string_view source = "key ring",
                                          std::optional<std::string_view> passphrase = {});

/// Loads a key-ring file (format as `parse_secure_ring`), checking its permissions as
/// `load_key_ring` does. Throws `error` as `load_key_ring` and `parse_secure_ring`.
WAMPBOX_API secure_ring load_secure_ring(const std::filesystem::path& path,
                                         permission_check check = permission_check::enforce,
                                         std::optional<std::string_view> passphrase = {});

}  // namespace wampbox::codec
