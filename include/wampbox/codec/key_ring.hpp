// wampbox — keys for end-to-end payload encryption (Autobahn|Python `Key` / `KeyRing` semantics).
//
// A `key` holds the symmetric cryptobox key K = crypto_box_beforenm(peer_pub, own_priv), computed
// once when the key is built, for the originator side (publisher, caller) and/or the responder side
// (subscriber, callee). Both sides of a matching key pair derive the same K. Secrets live in
// sodium_malloc'd memory (guard pages, mlock'd, wiped on free) and are never printed.
//
// A `key_ring` maps URI prefixes to keys. Lookup is by the longest CHARACTER-wise prefix, exactly
// like Autobahn's pytrie: a key set for "com.example.top" also matches "com.example.topology".
// The prefix "" is the default key.
//
// Besides the errors each function names, building a key (from_spec, from_private, clone, and
// parse_key_ring / load_key_ring, which build keys) throws std::runtime_error when libsodium
// cannot be initialised (sodium_init fails) and std::bad_alloc when secure memory cannot be had
// (sodium_malloc fails) or memory runs out.
#pragma once

#include <wampbox/export.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wampbox::codec {

/// The side of an exchange a key is used for.
enum class key_role {
  originator,  ///< publisher or caller: encrypts PUBLISH/CALL, decrypts RESULT/ERROR
  responder,   ///< subscriber or callee: decrypts EVENT/INVOCATION, encrypts YIELD/ERROR
};

/// What a URI prefix accepts besides encrypted payloads.
enum class key_policy {
  strict,  ///< plaintext payloads are refused (errc::plaintext_refused); answers are always
           ///< encrypted
  lax,     ///< plaintext payloads are accepted, as Autobahn|Python does
};

/// Size in bytes of an X25519 key and of the shared key K.
inline constexpr std::size_t key_size = 32;

/// The four Base64 (RFC 4648, padded) X25519 keys of an Autobahn `Key`; any may be absent.
struct WAMPBOX_API key_spec {
  std::optional<std::string> originator_priv;  ///< publisher/caller private key
  std::optional<std::string> originator_pub;   ///< publisher/caller public key
  std::optional<std::string> responder_priv;   ///< subscriber/callee private key
  std::optional<std::string> responder_pub;    ///< subscriber/callee public key
  /// Wipes the private keys.
  ~key_spec();
};

/// An end-to-end encryption key: the precomputed shared key K for one or both roles.
/// Move-only (use `clone()` to duplicate secrets explicitly); a moved-from key holds nothing.
class WAMPBOX_API key {
 public:
  /// Builds a key like Autobahn's `Key(originator_priv, originator_pub, responder_priv,
  /// responder_pub)`: a missing public key is derived from its private key (a given one must
  /// match); the originator K needs originator_priv + responder_pub, the responder K needs
  /// responder_priv + originator_pub. Throws `wampbox::error` (errc::invalid_key) for bad
  /// Base64, a wrong length, a mismatching public key, or when neither role can be built.
  static key from_spec(const key_spec& spec);

  /// A single private key used for both roles (box with itself), like `KeyRing("b64priv")`.
  static key from_private(std::string_view private_b64);

  /// Takes the secrets of `other`, which is left empty (no role, no public keys).
  key(key&& other) noexcept;
  /// Wipes this key's secrets, then takes those of `other`, which is left empty.
  key& operator=(key&& other) noexcept;
  key(const key&) = delete;
  key& operator=(const key&) = delete;
  /// Wipes and frees the secrets.
  ~key();

  /// An independent copy of the secrets (explicit, so secrets are never copied by accident).
  key clone() const;

  /// True when the key can act in `role` (it holds that role's K).
  bool can(key_role role) const noexcept;

  /// The 32-byte shared key K for `role`, or nullptr when the key cannot act in that role.
  /// For the codec's use: never copy it out of the key.
  const unsigned char* shared_key(key_role role) const noexcept;

  /// Base64 public key of the originator or responder, when known (not secret).
  const std::optional<std::string>& public_key(key_role role) const noexcept;

  /// True when both keys hold the same roles and the same secrets (constant-time comparison).
  bool same_secrets(const key& other) const noexcept;

  struct material;  ///< the secret block (defined in the source)

 private:
  friend struct key_factory;
  key() = default;
  material* material_ = nullptr;  // sodium_malloc'd
  std::optional<std::string> originator_pub_;
  std::optional<std::string> responder_pub_;
};

/// A URI-prefix -> key map with per-prefix policy. Move-only (it owns keys).
class WAMPBOX_API key_ring {
 public:
  /// What the ring says about one prefix.
  struct entry {
    std::optional<key> k;  ///< the key; empty means "must be encrypted, but no key": sending fails
    key_policy policy = key_policy::strict;  ///< what plaintext gets on this prefix
  };

  /// An empty ring: every URI travels in plaintext.
  key_ring() = default;
  /// A ring with only a default key (prefix ""), like Autobahn's `KeyRing(default_key)`.
  explicit key_ring(key default_key, key_policy policy = key_policy::strict);

  /// Sets (or replaces) the key for every URI starting with `prefix` ("" = default key).
  void set_key(std::string prefix, key k, key_policy policy = key_policy::strict);

  /// Marks a prefix as "must be encrypted" without giving a key: outgoing payloads there fail
  /// with errc::encryption_required, incoming plaintext with errc::plaintext_refused.
  void require_encryption(std::string prefix);

  /// The entry of the longest character-wise prefix of `uri` (the default entry "" included),
  /// or nullptr when no prefix matches.
  const entry* find(std::string_view uri) const noexcept;

  /// The length of the prefix `find` picks for `uri`, or nullopt when no prefix matches (a
  /// secure_ring compares it with its secure prefixes).
  std::optional<std::size_t> match_length(std::string_view uri) const noexcept;

  /// Number of prefixes (the default included).
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  void put(std::string prefix, entry e);
  /// The entry of the longest matching prefix and that prefix's length; {nullptr, 0} if none.
  std::pair<const entry*, std::size_t> lookup(std::string_view uri) const noexcept;

  std::map<std::string, entry, std::less<>> entries_;
  std::vector<std::size_t> prefix_lengths_;  // distinct prefix lengths, longest first
};

/// Whether `load_key_ring` checks the file's permissions.
enum class permission_check {
  enforce,  ///< refuse a file readable or writable by group or others (like ssh)
  skip,     ///< trust the file whatever its mode (e.g. secrets mounted by a container runtime)
};

/// Parses a key-ring document:
/// `{"<uri prefix>": {"originator_priv": b64|null, "originator_pub": b64|null,
///   "responder_priv": b64|null, "responder_pub": b64|null, "policy": "strict"|"lax"}, ...}`.
/// The prefix "" is the default key; "policy" defaults to "strict"; an entry with no key at all
/// (and policy strict) marks its prefix "must be encrypted". `source` names the document in
/// errors. Throws `wampbox::error` (errc::invalid_key) naming the entry and field at fault.
WAMPBOX_API key_ring parse_key_ring(std::string_view json_text,
                                    std::string_view source = "key ring");

/// Loads a key-ring file (format as `parse_key_ring`). Throws `wampbox::error`: the system error
/// when it cannot be read, permission_denied when `check` is enforce and the file is accessible to
/// group or others, errc::invalid_key for bad content.
WAMPBOX_API key_ring load_key_ring(const std::filesystem::path& path,
                                   permission_check check = permission_check::enforce);

/// A fresh X25519 key pair in Base64. The private key is wiped when the pair is destroyed.
struct WAMPBOX_API key_pair {
  std::string private_key;  ///< Base64, 32 bytes: secret
  std::string public_key;   ///< Base64, 32 bytes

  key_pair() = default;
  /// Moves the strings (the source is left without its secret).
  key_pair(key_pair&&) noexcept = default;
  key_pair& operator=(key_pair&&) = delete;  // would free the old secret unwiped
  key_pair(const key_pair&) = delete;
  key_pair& operator=(const key_pair&) = delete;
  /// Wipes the private key.
  ~key_pair();
};

/// Generates a random X25519 key pair (for `wampbox keygen`).
WAMPBOX_API key_pair generate_key_pair();

}  // namespace wampbox::codec
