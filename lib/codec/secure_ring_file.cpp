// The ring file of secure mode (docs/secure-mode.md, "Ring file"), and the cryptobox format.
#include <wampbox/codec/secure_ring.hpp>

#include "ring_file.hpp"
#include "sodium_util.hpp"

#include <wampbox/error.hpp>

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace wampbox::codec {
namespace {

using json = nlohmann::json;

/// Builds `error`s that name the document and the place at fault.
struct reporter {
  std::string_view source;
  error operator()(const std::string& where, const std::string& why) const {
    return error(errc::invalid_key, std::string(source) + ": " + where + why);
  }
};

/// Wipes a string field of an object, if present.
void wipe_field(json& object, const char* field) noexcept {
  if (!object.is_object()) return;
  auto it = object.find(field);
  if (it != object.end() && it->is_string()) detail::wipe(it->get_ref<std::string&>());
}

/// Wipes every secret of a version 2 document: the identity seed, group keys, cryptobox keys.
void wipe_secrets(json& doc) noexcept {
  if (!doc.is_object()) return;
  if (auto id = doc.find("identity"); id != doc.end()) wipe_field(*id, "seed");
  auto prefixes = doc.find("prefixes");
  if (prefixes == doc.end() || !prefixes->is_object()) return;
  for (auto& [prefix, spec] : prefixes->items()) {
    if (!spec.is_object()) continue;
    for (const char* field : {"originator_priv", "responder_priv"}) wipe_field(spec, field);
    auto keys = spec.find("keys");
    if (keys == spec.end() || !keys->is_array()) continue;
    for (auto& k : *keys) wipe_field(k, "key");
  }
}

const std::string& string_field(const json& object, const char* field, const std::string& where,
                                const reporter& fail) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string())
    throw fail(where, std::string("\"") + field + "\" must be a string");
  return it->get_ref<const std::string&>();
}

std::optional<std::int64_t> time_field(const json& object, const char* field,
                                       const std::string& where, const reporter& fail) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer())
    throw fail(where, std::string("\"") + field +
                          "\" must be an integer (milliseconds since the Unix epoch) or null");
  return it->get<std::int64_t>();
}

passphrase_params read_passphrase_params(const json& p, const reporter& fail) {
  const std::string where = "\"passphrase\": ";
  if (!p.is_object()) throw fail(where, "must be an object");
  passphrase_params params;
  if (!detail::from_base64_exact(string_field(p, "salt", where, fail), params.salt.data(),
                                 params.salt.size())) {
    throw fail(where, "\"salt\" must be Base64 of 16 bytes");
  }
  for (const char* field : {"opslimit", "memlimit"}) {
    if (!p.contains(field) || !p[field].is_number_unsigned())
      throw fail(where, std::string("\"") + field + "\" must be a positive integer");
  }
  params.opslimit = p["opslimit"].get<unsigned long long>();
  params.memlimit = p["memlimit"].get<std::size_t>();
  return params;
}

/// The master key of the document's "passphrase" section, checked against its "check" value.
std::optional<passphrase_master> read_master(const json& doc,
                                             std::optional<std::string_view> passphrase,
                                             const reporter& fail) {
  auto p = doc.find("passphrase");
  if (p == doc.end()) return std::nullopt;
  const passphrase_params params = read_passphrase_params(*p, fail);
  const std::string& check = string_field(*p, "check", "\"passphrase\": ", fail);
  if (!passphrase) throw fail("", "this ring derives its keys from a passphrase; none was given");
  passphrase_master master = passphrase_master::derive(*passphrase, params);
  if (master.check_hex() != check)
    throw fail("", "the passphrase does not match this ring (its \"check\" value differs)");
  return master;
}

void read_keys(secure_ring& ring, const std::string& prefix, const json& keys,
               const std::optional<passphrase_master>& master, const std::string& where,
               const reporter& fail) {
  if (!keys.is_array() || keys.empty()) throw fail(where, "\"keys\" must be a non-empty array");
  for (const auto& k : keys) {
    if (!k.is_object()) throw fail(where, "each of \"keys\" must be an object");
    key_validity validity;
    validity.valid_from_ms = time_field(k, "valid_from", where, fail).value_or(0);
    validity.retire_at_ms = time_field(k, "retire_at", where, fail);
    const bool has_key = k.contains("key"), has_label = k.contains("derive");
    if (has_key == has_label)
      throw fail(where, "each key has either \"key\" (Base64) or \"derive\" (a label)");
    if (has_label) {
      const std::string& label = string_field(k, "derive", where, fail);
      if (!master) throw fail(where, "\"derive\" needs the ring's \"passphrase\" section");
      ring.add_key(prefix, master->group(prefix, label), validity);
    } else {
      const std::string& b64 = string_field(k, "key", where, fail);
      try {
        ring.add_key(prefix, group_key::from_base64(b64), validity);
      } catch (const error& e) {
        throw fail(where, e.what());
      }
    }
  }
}

void read_senders(secure_ring& ring, const std::string& prefix, const json& senders,
                  const json& peers, const std::string& where, const reporter& fail) {
  if (!senders.is_object()) throw fail(where, "\"senders\" must be an object {name: [roles]}");
  for (const auto& [name, roles] : senders.items()) {
    auto peer = peers.find(name);
    if (peer == peers.end() || !peer->is_string())
      throw fail(where, "sender \"" + name + "\" is not in \"peers\"");
    std::array<unsigned char, identity_public_size> public_key{};
    if (!detail::from_base64_exact(peer->get_ref<const std::string&>(), public_key.data(),
                                   public_key.size())) {
      throw fail("peer \"" + name + "\": ", "must be Base64 of a 32-byte Ed25519 public key");
    }
    if (!roles.is_array() || roles.empty())
      throw fail(where, "the roles of \"" + name + "\" must be a non-empty array");
    sender_roles set = 0;
    for (const auto& r : roles) {
      const auto role =
          r.is_string() ? sender_role_from_name(r.get_ref<const std::string&>()) : std::nullopt;
      if (!role)
        throw fail(where, "the roles of \"" + name + "\" are \"publish\", \"call\", \"answer\"");
      set |= static_cast<unsigned>(*role);
    }
    ring.trust_sender(prefix, name, public_key, set);
  }
}

secure_ring build_v2(const json& doc, std::optional<std::string_view> passphrase,
                     const reporter& fail) {
  static const std::vector<std::string> known = {"version", "identity", "passphrase", "peers",
                                                 "prefixes"};
  for (const auto& [name, value] : doc.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw fail("", "unknown field \"" + name + "\"");
  }
  if (doc["version"] != 2) throw fail("", "\"version\" must be 2");
  const auto master = read_master(doc, passphrase, fail);
  static const json no_peers = json::object();
  const json& peers = doc.contains("peers") ? doc["peers"] : no_peers;
  if (!peers.is_object()) throw fail("", "\"peers\" must be an object {name: public key}");

  json cryptobox_doc = json::object();
  struct wiper {
    json& doc;
    ~wiper() { detail::wipe_private_fields(doc); }
  } wipe_copy{cryptobox_doc};
  std::vector<std::pair<std::string, const json*>> secure;
  if (!doc.contains("prefixes") || !doc["prefixes"].is_object())
    throw fail("", "\"prefixes\" must be an object {\"<uri prefix>\": {...}}");
  for (const auto& [prefix, spec] : doc["prefixes"].items()) {
    const std::string where = "prefix \"" + prefix + "\": ";
    if (!spec.is_object() || !spec.contains("mode"))
      throw fail(where, "must be an object with \"mode\": \"secure\" or \"cryptobox\"");
    if (spec["mode"] == "cryptobox") {
      json copy = spec;
      copy.erase("mode");
      cryptobox_doc[prefix] = std::move(copy);
    } else if (spec["mode"] == "secure") {
      secure.emplace_back(prefix, &spec);
    } else {
      throw fail(where, "\"mode\" must be \"secure\" or \"cryptobox\"");
    }
  }
  secure_ring ring(detail::build_key_ring(cryptobox_doc, fail.source));

  for (const auto& [prefix, spec] : secure) {
    const std::string where = "prefix \"" + prefix + "\": ";
    for (const auto& [name, value] : spec->items()) {
      if (name != "mode" && name != "keys" && name != "senders")
        throw fail(where, "unknown field \"" + name + "\" (expected mode, keys, senders)");
    }
    ring.add_secure_prefix(prefix);
    if (!spec->contains("keys")) throw fail(where, "a secure prefix needs \"keys\"");
    read_keys(ring, prefix, (*spec)["keys"], master, where, fail);
    if (spec->contains("senders"))
      read_senders(ring, prefix, (*spec)["senders"], peers, where, fail);
  }

  if (auto id = doc.find("identity"); id != doc.end()) {
    if (!id->is_object()) throw fail("\"identity\": ", "must be an object {name, seed}");
    const std::string where = "\"identity\": ";
    std::string name = string_field(*id, "name", where, fail);
    const std::string& seed = string_field(*id, "seed", where, fail);
    try {
      ring.set_identity(std::move(name), identity_key::from_seed(seed));
    } catch (const error& e) {
      throw fail(where, e.what());
    }
  }
  return ring;
}

}  // namespace

secure_ring parse_secure_ring(std::string_view json_text, std::string_view source,
                              std::optional<std::string_view> passphrase) {
  json doc = detail::parse_secret_json(json_text, source);
  const reporter fail{source};
  // The cryptobox format maps prefixes to objects: a number "version" marks the newer format.
  const bool v2 = doc.is_object() && doc.contains("version") && doc["version"].is_number();
  try {
    secure_ring ring =
        v2 ? build_v2(doc, passphrase, fail) : secure_ring(detail::build_key_ring(doc, source));
    v2 ? wipe_secrets(doc) : detail::wipe_private_fields(doc);
    return ring;
  } catch (...) {
    v2 ? wipe_secrets(doc) : detail::wipe_private_fields(doc);
    throw;
  }
}

secure_ring load_secure_ring(const std::filesystem::path& path, permission_check check,
                             std::optional<std::string_view> passphrase) {
  std::string text = detail::read_secret_file(path, check);
  try {
    secure_ring ring = parse_secure_ring(text, path.string(), passphrase);
    detail::wipe(text);
    return ring;
  } catch (...) {
    detail::wipe(text);
    throw;
  }
}

}  // namespace wampbox::codec
