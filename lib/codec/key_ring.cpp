#include <wampbox/codec/key_ring.hpp>

#include "../private_file.hpp"
#include "ring_file.hpp"
#include "sodium_util.hpp"

#include <wampbox/error.hpp>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <stdexcept>

namespace wampbox::codec {

namespace detail {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  });
}

std::string to_base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the encoded length counts the terminating NUL
  return out;
}

void wipe(std::string& s) noexcept { sodium_memzero(s.data(), s.size()); }

void wipe(value& v) noexcept {
  if (v.is_string()) {
    wipe(v.get_ref<std::string&>());
  } else if (v.is_binary()) {
    auto& b = v.get_binary();
    sodium_memzero(b.data(), b.size());
  } else if (v.is_structured()) {
    for (auto& item : v) wipe(item);  // an object's keys are not wiped: std::map keeps them const
  }
}

}  // namespace detail

namespace {

constexpr int role_index(key_role r) noexcept { return r == key_role::originator ? 0 : 1; }

/// A key-building problem, without context; the public entry points add it.
struct bad_key {
  std::string reason;
};

/// 32 secret bytes on the stack, wiped when the scope ends.
struct stack_secret {
  std::array<unsigned char, key_size> bytes{};
  bool present = false;
  stack_secret() = default;
  stack_secret(const stack_secret&) = delete;
  stack_secret& operator=(const stack_secret&) = delete;
  ~stack_secret() { sodium_memzero(bytes.data(), bytes.size()); }
};

/// Decodes one Base64 key field into `out`; throws bad_key naming the field (never the value).
void decode_key(std::optional<std::string_view> b64, const char* field, stack_secret& out) {
  if (!b64) return;
  // Long enough for any 32-byte key with slack, so a wrong length is reported as such.
  std::array<unsigned char, 96> buf{};
  std::size_t len = 0;
  const char* end = nullptr;
  const bool decoded = b64->size() <= 128 &&
                       sodium_base642bin(buf.data(), buf.size(), b64->data(), b64->size(), nullptr,
                                         &len, &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
                       end == b64->data() + b64->size();
  if (decoded && len == key_size) std::copy_n(buf.begin(), key_size, out.bytes.begin());
  sodium_memzero(buf.data(), buf.size());
  if (!decoded && b64->size() <= 128) {
    throw bad_key{std::string(field) + " is not valid Base64 (RFC 4648, padded)"};
  }
  if (!decoded || len != key_size) {
    throw bad_key{std::string(field) + " must be a Base64 32-byte X25519 key, got " +
                  (decoded ? std::to_string(len) : std::string("more than 96")) + " bytes"};
  }
  out.present = true;
}

/// Fills `pub` from `priv` (derived) and/or the given public key; they must agree.
void resolve_public(const stack_secret& priv, const stack_secret& given_pub, const char* pub_field,
                    stack_secret& pub) {
  if (priv.present) {
    crypto_scalarmult_base(pub.bytes.data(), priv.bytes.data());
    pub.present = true;
    if (given_pub.present &&
        sodium_memcmp(pub.bytes.data(), given_pub.bytes.data(), key_size) != 0) {
      throw bad_key{std::string(pub_field) + " does not belong to the matching private key"};
    }
  } else if (given_pub.present) {
    pub.bytes = given_pub.bytes;
    pub.present = true;
  }
}

}  // namespace

struct key::material {
  unsigned char shared[2][key_size];  // K per role_index
  bool has[2];
};

namespace {

key::material* allocate_material() {
  detail::ensure_sodium();
  void* p = sodium_malloc(sizeof(key::material));
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, sizeof(key::material));
  return static_cast<key::material*>(p);
}

/// Owns a material block until it is handed to a key (frees it if building fails).
struct material_guard {
  key::material* m;
  ~material_guard() {
    if (m != nullptr) sodium_free(m);
  }
};

}  // namespace

/// Builds keys from Base64 fields; throws bad_key (the public entry points add context).
struct key_factory {
  static key make(std::optional<std::string_view> originator_priv,
                  std::optional<std::string_view> originator_pub,
                  std::optional<std::string_view> responder_priv,
                  std::optional<std::string_view> responder_pub) {
    material_guard guard{allocate_material()};
    key::material& m = *guard.m;
    key k;
    stack_secret opriv, opub_given, rpriv, rpub_given, opub, rpub;
    decode_key(originator_priv, "originator_priv", opriv);
    decode_key(originator_pub, "originator_pub", opub_given);
    decode_key(responder_priv, "responder_priv", rpriv);
    decode_key(responder_pub, "responder_pub", rpub_given);
    resolve_public(opriv, opub_given, "originator_pub", opub);
    resolve_public(rpriv, rpub_given, "responder_pub", rpub);
    // Autobahn: originator_box = Box(originator_priv, responder_pub), responder_box =
    // Box(responder_priv, originator_pub); both yield the same K.
    if (opriv.present && rpub.present) {
      if (crypto_box_beforenm(m.shared[0], rpub.bytes.data(), opriv.bytes.data()) != 0) {
        throw bad_key{"responder_pub is a weak (low-order) public key"};
      }
      m.has[0] = true;
    }
    if (rpriv.present && opub.present) {
      if (crypto_box_beforenm(m.shared[1], opub.bytes.data(), rpriv.bytes.data()) != 0) {
        throw bad_key{"originator_pub is a weak (low-order) public key"};
      }
      m.has[1] = true;
    }
    if (!m.has[0] && !m.has[1]) {
      throw bad_key{
          "insufficient keys: need originator_priv with responder_pub (or responder_priv), or "
          "responder_priv with originator_pub (or originator_priv)"};
    }
    if (opub.present) k.originator_pub_ = detail::to_base64(opub.bytes.data(), key_size);
    if (rpub.present) k.responder_pub_ = detail::to_base64(rpub.bytes.data(), key_size);
    sodium_mprotect_readonly(guard.m);
    k.material_ = std::exchange(guard.m, nullptr);
    return k;
  }

  /// `make`, with bad_key turned into wampbox::error.
  template <class... Fields>
  static key make_or_throw(Fields... fields) {
    try {
      return make(fields...);
    } catch (const bad_key& e) {
      throw error(errc::invalid_key, e.reason);
    }
  }
};

namespace {

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

}  // namespace

key key::from_spec(const key_spec& spec) {
  return key_factory::make_or_throw(view(spec.originator_priv), view(spec.originator_pub),
                                    view(spec.responder_priv), view(spec.responder_pub));
}

key key::from_private(std::string_view private_b64) {
  const std::optional<std::string_view> priv = private_b64, none;
  return key_factory::make_or_throw(priv, none, priv, none);
}

key::key(key&& other) noexcept
    : material_(std::exchange(other.material_, nullptr)),
      originator_pub_(std::move(other.originator_pub_)),
      responder_pub_(std::move(other.responder_pub_)) {
  other.originator_pub_.reset();
  other.responder_pub_.reset();
}

key& key::operator=(key&& other) noexcept {
  if (this != &other) {
    if (material_ != nullptr) sodium_free(material_);
    material_ = std::exchange(other.material_, nullptr);
    originator_pub_ = std::move(other.originator_pub_);
    responder_pub_ = std::move(other.responder_pub_);
    other.originator_pub_.reset();
    other.responder_pub_.reset();
  }
  return *this;
}

key::~key() {
  if (material_ != nullptr) sodium_free(material_);  // sodium_free wipes before unmapping
}

key key::clone() const {
  key k;
  if (material_ != nullptr) {
    material_guard guard{allocate_material()};
    std::copy_n(reinterpret_cast<const unsigned char*>(material_), sizeof(material),
                reinterpret_cast<unsigned char*>(guard.m));
    sodium_mprotect_readonly(guard.m);
    k.material_ = std::exchange(guard.m, nullptr);
  }
  k.originator_pub_ = originator_pub_;
  k.responder_pub_ = responder_pub_;
  return k;
}

bool key::can(key_role role) const noexcept {
  return material_ != nullptr && material_->has[role_index(role)];
}

const unsigned char* key::shared_key(key_role role) const noexcept {
  return can(role) ? material_->shared[role_index(role)] : nullptr;
}

const std::optional<std::string>& key::public_key(key_role role) const noexcept {
  return role == key_role::originator ? originator_pub_ : responder_pub_;
}

bool key::same_secrets(const key& other) const noexcept {
  bool same = true;
  for (key_role r : {key_role::originator, key_role::responder}) {
    if (can(r) != other.can(r)) {
      same = false;
    } else if (can(r)) {
      same &= sodium_memcmp(shared_key(r), other.shared_key(r), key_size) == 0;
    }
  }
  return same;
}

key_ring::key_ring(key default_key, key_policy policy) {
  set_key("", std::move(default_key), policy);
}

void key_ring::set_key(std::string prefix, key k, key_policy policy) {
  put(std::move(prefix), entry{std::move(k), policy});
}

void key_ring::require_encryption(std::string prefix) {
  put(std::move(prefix), entry{std::nullopt, key_policy::strict});
}

void key_ring::put(std::string prefix, entry e) {
  const std::size_t len = prefix.size();
  entries_.insert_or_assign(std::move(prefix), std::move(e));
  if (std::find(prefix_lengths_.begin(), prefix_lengths_.end(), len) == prefix_lengths_.end()) {
    prefix_lengths_.insert(
        std::upper_bound(prefix_lengths_.begin(), prefix_lengths_.end(), len, std::greater<>()),
        len);
  }
}

const key_ring::entry* key_ring::find(std::string_view uri) const noexcept {
  return lookup(uri).first;
}

std::optional<std::size_t> key_ring::match_length(std::string_view uri) const noexcept {
  const auto [e, len] = lookup(uri);
  return e != nullptr ? std::optional(len) : std::nullopt;
}

std::pair<const key_ring::entry*, std::size_t> key_ring::lookup(
    std::string_view uri) const noexcept {
  // Only lengths that some prefix has are tried, longest first: few map lookups per URI.
  for (std::size_t len : prefix_lengths_) {
    if (len > uri.size()) continue;
    auto it = entries_.find(uri.substr(0, len));
    if (it != entries_.end()) return {&it->second, len};
  }
  return {nullptr, 0};
}

namespace {

constexpr std::array<const char*, 4> key_fields = {"originator_priv", "originator_pub",
                                                   "responder_priv", "responder_pub"};

}  // namespace

namespace detail {

void wipe_private_fields(nlohmann::json& doc) noexcept {
  if (!doc.is_object()) return;
  for (auto& [prefix, spec] : doc.items()) {
    if (!spec.is_object()) continue;
    for (const char* field : {"originator_priv", "responder_priv"}) {
      auto it = spec.find(field);
      if (it != spec.end() && it->is_string()) detail::wipe(it->get_ref<std::string&>());
    }
  }
}

key_ring build_key_ring(const nlohmann::json& doc, std::string_view source) {
  auto fail = [&](const std::string& where, const std::string& why) -> error {
    return error(errc::invalid_key, std::string(source) + ": " + where + why);
  };
  if (!doc.is_object())
    throw fail("", "the top level must be a JSON object {\"<uri prefix>\": {...}}");
  key_ring ring;
  for (const auto& [prefix, spec] : doc.items()) {
    const std::string where = "entry \"" + prefix + "\": ";
    if (!spec.is_object()) throw fail(where, "must be an object");
    std::array<std::optional<std::string_view>, 4> fields;
    key_policy policy = key_policy::strict;
    for (const auto& [name, val] : spec.items()) {
      if (name == "policy") {
        if (val == "strict") {
          policy = key_policy::strict;
        } else if (val == "lax") {
          policy = key_policy::lax;
        } else {
          throw fail(where, "\"policy\" must be \"strict\" or \"lax\"");
        }
        continue;
      }
      // Why `field`: clang before 16 cannot capture a structured binding.
      const std::string& field = name;
      auto f = std::find_if(key_fields.begin(), key_fields.end(),
                            [&field](const char* k) { return field == k; });
      if (f == key_fields.end()) {
        throw fail(where, "unknown field \"" + name +
                              "\" (expected originator_priv, originator_pub, responder_priv, "
                              "responder_pub, policy)");
      }
      if (val.is_null()) continue;
      if (!val.is_string()) throw fail(where, "\"" + name + "\" must be a Base64 string or null");
      fields[static_cast<std::size_t>(f - key_fields.begin())] = val.get_ref<const std::string&>();
    }
    const bool any_key =
        std::any_of(fields.begin(), fields.end(), [](auto& f) { return f.has_value(); });
    if (!any_key) {
      if (policy == key_policy::lax) throw fail(where, "a \"lax\" entry needs keys");
      ring.require_encryption(prefix);
      continue;
    }
    try {
      ring.set_key(prefix, key_factory::make(fields[0], fields[1], fields[2], fields[3]), policy);
    } catch (const bad_key& e) {
      throw fail(where, e.reason);
    }
  }
  return ring;
}

nlohmann::json parse_secret_json(std::string_view json_text, std::string_view source) {
  try {
    return nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the input near the error, which may be key material: give the offset only.
    throw error(errc::invalid_key, std::string(source) + ": not valid JSON (error at byte " +
                                       std::to_string(e.byte) + ")");
  }
}

std::string read_secret_file(const std::filesystem::path& path, permission_check check) {
  return wampbox::detail::read_private_file(path, "key ring file",
                                            check == permission_check::enforce);
}

}  // namespace detail

key_ring parse_key_ring(std::string_view json_text, std::string_view source) {
  nlohmann::json doc = detail::parse_secret_json(json_text, source);
  try {
    key_ring ring = detail::build_key_ring(doc, source);
    detail::wipe_private_fields(doc);
    return ring;
  } catch (...) {
    detail::wipe_private_fields(doc);
    throw;
  }
}

key_ring load_key_ring(const std::filesystem::path& path, permission_check check) {
  std::string text = detail::read_secret_file(path, check);
  try {
    key_ring ring = parse_key_ring(text, path.string());
    detail::wipe(text);
    return ring;
  } catch (...) {
    detail::wipe(text);
    throw;
  }
}

key_spec::~key_spec() {
  for (auto* secret : {&originator_priv, &responder_priv}) {
    if (*secret) detail::wipe(**secret);
  }
}

key_pair::~key_pair() { detail::wipe(private_key); }

key_pair generate_key_pair() {
  detail::ensure_sodium();
  stack_secret sk;
  std::array<unsigned char, key_size> pk{};
  crypto_box_keypair(pk.data(), sk.bytes.data());
  key_pair pair;
  pair.private_key = detail::to_base64(sk.bytes.data(), key_size);
  pair.public_key = detail::to_base64(pk.data(), key_size);
  return pair;
}

}  // namespace wampbox::codec
