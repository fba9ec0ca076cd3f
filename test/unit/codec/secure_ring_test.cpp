// secure_ring: modes per prefix, component-boundary matching, key ids and validity, senders,
// ring files (version 2), passphrase rings.
#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/error.hpp>

#include "codec_test_util.hpp"
#include "secure_test_util.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;
using pk = payload_kind;

namespace {

/// The cheapest Argon2id cost libsodium allows (tests only: real rings use INTERACTIVE or more).
passphrase_params cheap_params() { return new_passphrase_params(1, 8192); }

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

/// A version 2 ring document: identity `me`, the passphrase section of `params`/`check`, one
/// secure prefix with a derived key and the publisher as sender, one cryptobox prefix.
nlohmann::json passphrase_ring(const secure_group& g, const std::string& me,
                               const passphrase_params& params, const std::string& check) {
  return {{"version", 2},
          {"identity", {{"name", me}, {"seed", g.seeds.at(me)}}},
          {"passphrase",
           {{"salt", base64(params.salt.data(), params.salt.size())},
            {"opslimit", params.opslimit},
            {"memlimit", params.memlimit},
            {"check", check}}},
          {"peers", {{"publisher", g.identity("publisher").public_key_base64()}}},
          {"prefixes",
           {{"com.example",
             {{"mode", "secure"},
              {"keys", {{{"derive", "1"}, {"valid_from", 0}}}},
              {"senders", {{"publisher", {"publish"}}}}}},
            {"com.interop.",
             {{"mode", "cryptobox"},
              {"originator_priv", vector_originator_priv},
              {"responder_pub", vector_responder_pub}}}}}};
}

}  // namespace

TEST_SUITE("codec.secure_ring") {
  TEST_CASE("secure prefixes match on URI component boundaries") {
    secure_ring ring;
    ring.add_key("com.example.top", group_key::generate());
    ring.add_key("org.dot.", group_key::generate());
    CHECK(ring.find("com.example.top") == ring.entry("com.example.top"));
    CHECK(ring.find("com.example.top.x.y") == ring.entry("com.example.top"));
    CHECK(ring.find("com.example.topology") == nullptr);
    CHECK(ring.find("com.example.to") == nullptr);
    CHECK(ring.find("org.dot.x") == ring.entry("org.dot."));
    CHECK(ring.find("org.dotty") == nullptr);
    ring.add_key("", group_key::generate());
    CHECK(ring.find("com.example.topology") == ring.entry(""));
    ring.add_key("com.example.top.secret", group_key::generate());  // the longest wins
    CHECK(ring.find("com.example.top.secret.x") == ring.entry("com.example.top.secret"));
  }

  TEST_CASE("a prefix has one mode; a longer cryptobox prefix takes its URIs out of secure mode") {
    secure_ring ring(originator_ring("com.example.legacy"));
    CHECK(thrown_code([&] { ring.add_secure_prefix("com.example.legacy"); }) == errc::invalid_key);
    ring.add_key("com.example", group_key::generate());
    CHECK(thrown_code([&] {
            ring.set_cryptobox_key("com.example", key::from_private(vector_originator_priv));
          }) == errc::invalid_key);
    CHECK(ring.find("com.example.x") == ring.entry("com.example"));
    CHECK(ring.find("com.example.legacy.x") == nullptr);  // cryptobox: character-wise, longer
    CHECK(ring.find("com.example.legacyfoo") == nullptr);
  }

  TEST_CASE("key ids are stable and reveal nothing; senders use the newest valid key") {
    const group_key a = group_key::generate();
    const group_key a_again = group_key::from_base64(a.to_base64());
    CHECK(a.id() == a_again.id());
    CHECK(to_hex(a.id()).size() == 16);
    CHECK(a.to_base64().find(to_hex(a.id())) == std::string::npos);
    CHECK(thrown_code([] { group_key::from_base64("c2hvcnQ="); }) == errc::invalid_key);
    CHECK(thrown_code([] { identity_key::from_seed("not base64!"); }) == errc::invalid_key);

    secure_ring ring;
    const std::int64_t t = start_ms;
    group_key k1 = group_key::generate(), k2 = group_key::generate(), k3 = group_key::generate();
    const short_id id1 = k1.id(), id2 = k2.id();
    ring.add_key("p", std::move(k1), {0, t + 100});
    ring.add_key("p", std::move(k2), {t + 50, {}});
    ring.add_key("p", std::move(k3), {t + 1000, {}});
    const secure_entry& e = *ring.entry("p");
    CHECK(e.sending_key(t)->key.id() == id1);
    CHECK(e.sending_key(t + 50)->key.id() == id2);
    CHECK(e.sending_key(t + 100)->key.id() == id2);  // k1 retired, k3 not valid yet
    CHECK(e.find_key(id1) != nullptr);               // receivers still find it (then refuse)
    CHECK(thrown_code([&] {
            ring.add_key("p", group_key::from_base64(e.keys()[0].key.to_base64()));
          }) == errc::invalid_key);  // the same key twice
  }

  TEST_CASE("an identity's seed gives back the same identity; the sender id is its hash") {
    const identity_key id = identity_key::generate();
    const identity_key again = identity_key::from_seed(id.seed_base64());
    CHECK(again.public_key() == id.public_key());
    CHECK(again.sender_id() == sender_id_of(id.public_key()));
    CHECK(id.public_key_base64().size() == 44);
  }

  TEST_CASE("passphrase rings: the same passphrase gives the same keys on every peer") {
    secure_group g;
    const passphrase_params params = cheap_params();
    const std::string check = passphrase_master::derive("correct horse", params).check_hex();
    const std::string pub_doc = passphrase_ring(g, "publisher", params, check).dump();
    const std::string sub_doc = passphrase_ring(g, "subscriber", params, check).dump();
    secure_ring pub_ring = parse_secure_ring(pub_doc, "pub", "correct horse");
    secure_ring sub_ring = parse_secure_ring(sub_doc, "sub", "correct horse");
    REQUIRE(pub_ring.entry("com.example") != nullptr);
    CHECK(pub_ring.entry("com.example")->keys()[0].key.id() ==
          sub_ring.entry("com.example")->keys()[0].key.id());
    CHECK(pub_ring.cryptobox().find("com.interop.x") != nullptr);

    secure_codec pub(std::move(pub_ring), g.options());
    secure_codec sub(std::move(sub_ring), g.options());
    call_context ctx, rx;
    const sealed s = seal(pub, pk::publish, "com.example.t", ctx);
    CHECK(open(sub, pk::event, "com.example.t", s, rx).args == sample_args().args);
    CHECK(rx.sender->name == "publisher");

    // another salt: other keys, though the passphrase is the same
    const passphrase_params other = cheap_params();
    secure_ring salted = parse_secure_ring(
        passphrase_ring(g, "subscriber", other,
                        passphrase_master::derive("correct horse", other).check_hex())
            .dump(),
        "other", "correct horse");
    secure_codec stranger(std::move(salted), g.options());
    call_context rx2;
    CHECK(payload_errc([&] { open(stranger, pk::event, "com.example.t", s, rx2); }) ==
          errc::no_key);
  }

  TEST_CASE("passphrase rings: a wrong or missing passphrase fails cleanly at load time") {
    secure_group g;
    const passphrase_params params = cheap_params();
    const std::string check = passphrase_master::derive("correct horse", params).check_hex();
    const std::string doc = passphrase_ring(g, "subscriber", params, check).dump();
    std::string what, what2;
    const auto code =
        thrown_code([&] { parse_secure_ring(doc, "ring.json", "wrong horse"); }, &what);
    CHECK(code == errc::invalid_key);
    CHECK(what.find("passphrase does not match") != std::string::npos);
    CHECK(what.find("wrong horse") == std::string::npos);
    const auto code2 = thrown_code([&] { parse_secure_ring(doc, "ring.json"); }, &what2);
    CHECK(code2 == errc::invalid_key);
    CHECK(what2.find("none was given") != std::string::npos);
    passphrase_params bad = params;
    bad.opslimit = 0;
    CHECK(thrown_code([&] { passphrase_master::derive("x", bad); }) == errc::invalid_key);
  }

  TEST_CASE("ring files: errors name the place and never a secret") {
    secure_group g;
    const std::string seed = g.seeds.at("publisher");
    auto parse = [&](nlohmann::json doc) {
      std::string what;
      const auto code = thrown_code([&] { parse_secure_ring(doc.dump(), "ring.json"); }, &what);
      return std::pair(code, what);
    };
    nlohmann::json base = {{"version", 2},
                           {"identity", {{"name", "publisher"}, {"seed", seed}}},
                           {"peers", {{"callee", g.identity("callee").public_key_base64()}}},
                           {"prefixes",
                            {{"com.example",
                              {{"mode", "secure"},
                               {"keys", {{{"key", g.group_b64}}}},
                               {"senders", {{"callee", {"answer"}}}}}}}}};
    CHECK_NOTHROW(parse_secure_ring(base.dump(), "ring.json"));
    const secure_ring ring = parse_secure_ring(base.dump(), "ring.json");
    CHECK(ring.identity_name() == "publisher");
    CHECK(ring.entry("com.example")->senders().begin()->second.roles ==
          roles_of({sender_role::answer}));

    struct bad_case {
      const char* pointer;
      nlohmann::json value;
      const char* says;
    };
    for (const auto& c : std::vector<bad_case>{
             {"/version", 3, "\"version\" must be 2"},
             {"/unknown", 1, "unknown field \"unknown\""},
             {"/identity/seed", "c2hvcnQ=", "identity"},
             {"/prefixes/com.example/mode", "other", "\"mode\""},
             {"/prefixes/com.example/keys", nlohmann::json::array(), "\"keys\""},
             {"/prefixes/com.example/keys/0/key", "c2hvcnQ=", "Base64 of 32 bytes"},
             {"/prefixes/com.example/keys/0/valid_from", "soon", "valid_from"},
             {"/prefixes/com.example/keys/0/derive", "1", "either \"key\""},
             {"/prefixes/com.example/senders/nobody", {"publish"}, "not in \"peers\""},
             {"/prefixes/com.example/senders/callee", {"admin"}, "roles"},
             {"/peers/callee", "c2hvcnQ=", "Ed25519"},
         }) {
      nlohmann::json doc = base;
      doc[nlohmann::json::json_pointer(c.pointer)] = c.value;
      auto [code, what] = parse(doc);
      CHECK_MESSAGE(code == errc::invalid_key, c.pointer);
      CHECK_MESSAGE(what.find(c.says) != std::string::npos, c.pointer << ": " << what);
      CHECK(what.find(seed) == std::string::npos);
      CHECK(what.find(g.group_b64) == std::string::npos);
      CHECK(what.rfind("ring.json: ", 0) == 0);
    }
  }

  TEST_CASE("ring files: the cryptobox format still loads; files open to others are refused") {
    temp_dir dir;
    const auto path = dir.path() / "ring.json";
    const std::string text = nlohmann::json{{"com.interop.",
                                             {{"originator_priv", vector_originator_priv},
                                              {"responder_pub", vector_responder_pub}}}}
                                 .dump();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    const secure_ring ring = load_secure_ring(path);
    CHECK(ring.cryptobox().find("com.interop.x") != nullptr);
    CHECK(ring.secure_prefixes().empty());
    ::chmod(path.c_str(), 0640);
    CHECK(thrown_code([&] { load_secure_ring(path); }) == boost::system::errc::permission_denied);
    CHECK_NOTHROW(load_secure_ring(path, permission_check::skip));
  }
}
