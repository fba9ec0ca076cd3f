// wampbox CLI — `wampbox ring`: makes and edits key-ring files of secure mode. Every file is
// written with mode 0600 (a new file next to it, then renamed over it), and only after the
// library has loaded the new content: a ring is never left half-written or unloadable.
#include "ring.hpp"

#include "commands.hpp"

#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/error.hpp>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

namespace wampbox::cli {
namespace {

using json = nlohmann::json;

/// A `ring` failure: message for stderr plus exit code.
struct ring_failure {
  int code;
  std::string message;
};

constexpr const char* passphrase_variable = "WAMPBOX_PASSPHRASE";
constexpr const char* hidden = "(secret: shown with --secrets)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t in_ms(double seconds) { return now_ms() + static_cast<std::int64_t>(seconds * 1000); }

/// $WAMPBOX_PASSPHRASE, if set (never taken from the command line, where `ps` would show it).
std::optional<std::string_view> passphrase() {
  const char* p = std::getenv(passphrase_variable);
  return p != nullptr ? std::optional<std::string_view>(p) : std::nullopt;
}

/// Wipes every string of a document (ring documents hold secrets as strings).
void wipe_strings(json& doc) noexcept {
  if (doc.is_string()) {
    auto& s = doc.get_ref<std::string&>();
    sodium_memzero(s.data(), s.size());
  } else if (doc.is_structured()) {
    for (auto& v : doc) wipe_strings(v);
  }
}

/// A ring document that wipes itself.
struct document {
  json doc;
  document() = default;
  document(const document&) = delete;
  document& operator=(const document&) = delete;
  ~document() { wipe_strings(doc); }
};

/// Loads the ring through the library (which checks mode 0600 and the content), then reads
/// its JSON for editing. Cryptobox-only rings (no "version") are refused: `keygen` makes them.
void read_ring(const std::string& file, document& out) {
  try {
    codec::load_secure_ring(file, codec::permission_check::enforce, passphrase());
  } catch (const std::exception& e) {
    throw ring_failure{exit_failure, e.what()};
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out.doc = json::parse(text);
  sodium_memzero(text.data(), text.size());
  if (!out.doc.contains("version")) {
    throw ring_failure{exit_usage, file +
                                       " is a cryptobox ring (no \"version\"); `wampbox ring "
                                       "init` makes a secure-mode ring"};
  }
}

/// Writes `doc` to `file` with mode 0600 once the library loads it; `create`: `file` must not
/// exist yet.
void write_ring(const std::string& file, const json& doc, bool create) {
  std::string text = doc.dump(2) + "\n";
  struct wiper {
    std::string& s;
    ~wiper() { sodium_memzero(s.data(), s.size()); }
  } wipe_text{text};
  try {
    codec::parse_secure_ring(text, file, passphrase());
  } catch (const std::exception& e) {
    throw ring_failure{exit_failure, std::string("the new ring would not load: ") + e.what()};
  }
  const std::string temporary = file + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw ring_failure{exit_failure, "cannot create " + temporary + ": " + std::strerror(errno)};
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  // link() refuses an existing file: `init` never overwrites a ring.
  const bool placed = written && (create ? ::link(temporary.c_str(), file.c_str()) == 0 &&
                                               ::unlink(temporary.c_str()) == 0
                                         : ::rename(temporary.c_str(), file.c_str()) == 0);
  if (!placed) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw ring_failure{exit_failure, "cannot write " + file + ": " + why};
  }
}

/// The secure prefix `prefix` of the document; made when `make` and absent.
json& secure_prefix(json& doc, const std::string& prefix, bool make) {
  json& prefixes = doc["prefixes"];
  if (!prefixes.contains(prefix)) {
    if (!make) {
      throw ring_failure{exit_usage,
                         "prefix \"" + prefix + "\" has no keys yet: `wampbox ring add-key` first"};
    }
    prefixes[prefix] = {{"mode", "secure"}, {"keys", json::array()}};
  }
  json& p = prefixes[prefix];
  if (p.value("mode", "") != "secure")
    throw ring_failure{exit_usage, "prefix \"" + prefix + "\" is in cryptobox mode"};
  return p;
}

void print(std::ostream& out, const json& v) { out << v.dump() << '\n' << std::flush; }

int init(const ring_options& o, std::ostream& out) {
  document d;
  const auto id = codec::identity_key::generate();
  d.doc = {{"version", 2},
           {"identity", {{"name", o.name}, {"seed", id.seed_base64()}}},
           {"peers", json::object()},
           {"prefixes", json::object()}};
  if (o.passphrase) {
    const auto pass = passphrase();
    if (!pass)
      throw ring_failure{exit_usage, std::string("--passphrase reads $") + passphrase_variable};
    const auto params = codec::new_passphrase_params(o.opslimit, o.memlimit);
    std::string salt(sodium_base64_ENCODED_LEN(params.salt.size(), sodium_base64_VARIANT_ORIGINAL),
                     '\0');
    sodium_bin2base64(salt.data(), salt.size(), params.salt.data(), params.salt.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    salt.pop_back();
    try {
      d.doc["passphrase"] = {
          {"salt", salt},
          {"opslimit", params.opslimit},
          {"memlimit", params.memlimit},
          {"check", codec::passphrase_master::derive(*pass, params).check_hex()}};
    } catch (const error& e) {
      throw ring_failure{exit_usage, e.what()};
    }
  }
  write_ring(o.file, d.doc, true);
  print(out, {{"name", o.name}, {"public_key", id.public_key_base64()}});
  return exit_ok;
}

int identity(const ring_options& o, std::ostream& out) {
  const auto ring = codec::load_secure_ring(o.file, codec::permission_check::enforce, passphrase());
  if (ring.identity() == nullptr) throw ring_failure{exit_failure, o.file + " has no identity"};
  print(out,
        {{"name", ring.identity_name()}, {"public_key", ring.identity()->public_key_base64()}});
  return exit_ok;
}

/// add-key and rotate: a new key for the prefix (random, derived, or imported from another ring).
int add_key(const ring_options& o, std::ostream& out) {
  document d;
  read_ring(o.file, d);
  json& keys = secure_prefix(d.doc, o.prefix, true)["keys"];
  json ids = json::array();
  const std::int64_t valid_from = in_ms(o.in_seconds);
  if (!o.import_from.empty()) {
    const auto other =
        codec::load_secure_ring(o.import_from, codec::permission_check::enforce, passphrase());
    const codec::secure_entry* e = other.entry(o.prefix);
    if (e == nullptr)
      throw ring_failure{exit_usage, o.import_from + " has no secure prefix \"" + o.prefix + "\""};
    const auto mine =
        codec::load_secure_ring(o.file, codec::permission_check::enforce, passphrase());
    const codec::secure_entry* present = mine.entry(o.prefix);
    for (const auto& k : e->keys()) {
      if (present != nullptr && present->find_key(k.key.id()) != nullptr) continue;
      json entry = {{"key", k.key.to_base64()}, {"valid_from", k.validity.valid_from_ms}};
      if (k.validity.retire_at_ms) entry["retire_at"] = *k.validity.retire_at_ms;
      keys.push_back(std::move(entry));
      ids.push_back(codec::to_hex(k.key.id()));
    }
  } else if (!o.derive.empty()) {
    keys.push_back({{"derive", o.derive}, {"valid_from", valid_from}});
  } else {
    const auto k = codec::group_key::generate();
    keys.push_back({{"key", k.to_base64()}, {"valid_from", valid_from}});
    ids.push_back(codec::to_hex(k.id()));
  }
  write_ring(o.file, d.doc, false);
  if (!o.derive.empty()) {  // its id is known once derived
    const auto ring =
        codec::load_secure_ring(o.file, codec::permission_check::enforce, passphrase());
    ids.push_back(codec::to_hex(ring.entry(o.prefix)->keys().back().key.id()));
  }
  json added = {{"prefix", o.prefix}, {"added", ids}};
  if (o.import_from.empty()) added["valid_from"] = valid_from;  // imported keys keep their own
  print(out, added);
  return exit_ok;
}

int retire(const ring_options& o, std::ostream& out) {
  document d;
  read_ring(o.file, d);
  json& keys = secure_prefix(d.doc, o.prefix, false)["keys"];
  // The library's entry lists the keys in the file's order, with their ids (derived ones too).
  const auto ring = codec::load_secure_ring(o.file, codec::permission_check::enforce, passphrase());
  const auto& loaded = ring.entry(o.prefix)->keys();
  const std::int64_t at = in_ms(o.in_seconds);
  bool found = false;
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    if (codec::to_hex(loaded[i].key.id()) != o.key_id) continue;
    keys[i]["retire_at"] = at;
    found = true;
  }
  if (!found) throw ring_failure{exit_usage, "prefix \"" + o.prefix + "\" has no key " + o.key_id};
  write_ring(o.file, d.doc, false);
  print(out, {{"prefix", o.prefix}, {"retired", o.key_id}, {"retire_at", at}});
  return exit_ok;
}

int trust(const ring_options& o, std::ostream& out) {
  document d;
  read_ring(o.file, d);
  json& peers = d.doc["peers"];
  if (peers.contains(o.name) && peers[o.name] != o.public_key) {
    throw ring_failure{exit_usage,
                       "peer \"" + o.name + "\" already has another public key in " + o.file};
  }
  peers[o.name] = o.public_key;
  json& senders = secure_prefix(d.doc, o.prefix, false)["senders"];
  json& roles = senders[o.name];
  if (!roles.is_array()) roles = json::array();
  for (const auto& r : o.roles) {
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  write_ring(o.file, d.doc, false);
  print(out, {{"prefix", o.prefix}, {"sender", o.name}, {"roles", roles}});
  return exit_ok;
}

/// Replaces the secrets of a document by a note, and names each secure key by its id.
void redact(json& doc, const codec::secure_ring& ring, bool secrets) {
  if (!secrets && doc.contains("identity")) doc["identity"]["seed"] = hidden;
  for (auto& [prefix, spec] : doc["prefixes"].items()) {
    for (const char* field : {"originator_priv", "responder_priv"})
      if (!secrets && spec.contains(field) && spec[field].is_string()) spec[field] = hidden;
    const codec::secure_entry* e = ring.entry(prefix);
    if (e == nullptr) continue;
    for (std::size_t i = 0; i < e->keys().size(); ++i) {
      json& k = spec["keys"][i];
      k["key_id"] = codec::to_hex(e->keys()[i].key.id());
      if (!secrets && k.contains("key")) k["key"] = hidden;
    }
  }
}

int show(const ring_options& o, std::ostream& out) {
  document d;
  read_ring(o.file, d);
  const auto ring = codec::load_secure_ring(o.file, codec::permission_check::enforce, passphrase());
  redact(d.doc, ring, o.secrets);
  std::string text = d.doc.dump(2);
  out << text << '\n' << std::flush;
  sodium_memzero(text.data(), text.size());
  return exit_ok;
}

}  // namespace

CLI::App* add_ring_command(CLI::App& app, ring_options& o) {
  auto* ring = app.add_subcommand(
      "ring",
      "make and edit secure-mode key rings (files mode 0600; secrets are printed by show "
      "--secrets only). A passphrase ring reads its passphrase from $WAMPBOX_PASSPHRASE");
  ring->require_subcommand(1);
  auto file = [&o](CLI::App* sub) {
    sub->add_option("file", o.file, "the key-ring file")->required();
    sub->callback([&o, sub] { o.action = sub->get_name(); });
  };
  auto* init = ring->add_subcommand("init", "make a new ring with a new identity; prints it");
  file(init);
  init->add_option("--name", o.name, "this peer's name, as other rings will list it")->required();
  init->add_flag("--passphrase", o.passphrase,
                 "derive group keys from $WAMPBOX_PASSPHRASE (Argon2id, salt in the file)");
  init->add_option("--opslimit", o.opslimit, "Argon2id opslimit")->capture_default_str();
  init->add_option("--memlimit", o.memlimit, "Argon2id memlimit, bytes")->capture_default_str();

  file(ring->add_subcommand("identity", "print this ring's name and public key"));

  for (const char* name : {"add-key", "rotate"}) {
    auto* sub = ring->add_subcommand(
        name, std::string(name) == "rotate"
                  ? "add the next key of a secure prefix, used from --valid-in on (give "
                    "receivers the key first, then retire the old one)"
                  : "add a key to a secure prefix (made secure if new); prints its id");
    file(sub);
    sub->add_option("prefix", o.prefix, "URI prefix (component boundaries)")->required();
    sub->add_option("--valid-in", o.in_seconds, "seconds from now until senders use it");
    auto* derive = sub->add_option("--derive", o.derive, "a passphrase-derived key: its label");
    sub->add_option("--import-from", o.import_from, "copy the prefix's keys from this ring file")
        ->excludes(derive);
  }

  auto* retire = ring->add_subcommand("retire", "retire a key: refused from --in on");
  file(retire);
  retire->add_option("prefix", o.prefix, "URI prefix")->required();
  retire->add_option("key_id", o.key_id, "the key id (16 hex digits)")->required();
  retire->add_option("--in", o.in_seconds, "seconds from now (default: now)");

  auto* trust = ring->add_subcommand("trust", "accept a sender's signatures on a prefix");
  file(trust);
  trust->add_option("prefix", o.prefix, "URI prefix")->required();
  trust->add_option("name", o.name, "the sender's name")->required();
  trust->add_option("public_key", o.public_key, "its Ed25519 public key (Base64)")->required();
  trust->add_option("--role", o.roles, "publish, call or answer (repeatable)")
      ->required()
      ->check(CLI::IsMember({"publish", "call", "answer"}));

  auto* show = ring->add_subcommand("show", "print the ring (secrets hidden) with key ids");
  file(show);
  show->add_flag("--secrets", o.secrets, "print the secrets too");
  return ring;
}

int run_ring(const ring_options& o, std::ostream& out) {
  try {
    if (o.action == "init") return init(o, out);
    if (o.action == "identity") return identity(o, out);
    if (o.action == "add-key" || o.action == "rotate") return add_key(o, out);
    if (o.action == "retire") return retire(o, out);
    if (o.action == "trust") return trust(o, out);
    return show(o, out);
  } catch (const ring_failure& f) {
    std::cerr << "wampbox ring: " << f.message << '\n';
    return f.code;
  } catch (const std::exception& e) {
    std::cerr << "wampbox ring: " << e.what() << '\n';
    return exit_failure;
  }
}

}  // namespace wampbox::cli
