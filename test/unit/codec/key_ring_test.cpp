// Keys and key rings: Autobahn Key semantics, prefix lookup, key-ring files.
#include <wampbox/codec/key_ring.hpp>
#include <wampbox/error.hpp>

#include "codec_test_util.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;

TEST_SUITE("codec.key") {
  TEST_CASE("the four vector keys give the documented shared key for both roles") {
    key k = key::from_spec(vector_key_spec());
    REQUIRE(k.can(key_role::originator));
    REQUIRE(k.can(key_role::responder));
    CHECK(hex(k.shared_key(key_role::originator), key_size) == vector_k_hex);
    CHECK(hex(k.shared_key(key_role::responder), key_size) == vector_k_hex);
  }

  TEST_CASE("public keys are derived from private keys") {
    key k =
        key::from_spec({vector_originator_priv, std::nullopt, std::nullopt, vector_responder_pub});
    CHECK(k.public_key(key_role::originator) == vector_originator_pub);
    CHECK(k.public_key(key_role::responder) == vector_responder_pub);
    CHECK(k.can(key_role::originator));
    CHECK_FALSE(k.can(key_role::responder));
    CHECK(k.shared_key(key_role::responder) == nullptr);
    CHECK(hex(k.shared_key(key_role::originator), key_size) == vector_k_hex);

    key r =
        key::from_spec({std::nullopt, vector_originator_pub, vector_responder_priv, std::nullopt});
    CHECK(r.can(key_role::responder));
    CHECK_FALSE(r.can(key_role::originator));
    CHECK(hex(r.shared_key(key_role::responder), key_size) == vector_k_hex);
  }

  TEST_CASE("a single private key boxes with itself (KeyRing(\"b64priv\"))") {
    key k = key::from_private(vector_originator_priv);
    REQUIRE(k.can(key_role::originator));
    REQUIRE(k.can(key_role::responder));
    CHECK(k.public_key(key_role::originator) == vector_originator_pub);
    CHECK(k.public_key(key_role::responder) == vector_originator_pub);
    CHECK(hex(k.shared_key(key_role::originator), key_size) ==
          hex(k.shared_key(key_role::responder), key_size));
    CHECK(hex(k.shared_key(key_role::originator), key_size) != vector_k_hex);
  }

  TEST_CASE("bad keys are refused with errc::invalid_key and never echoed") {
    std::string what;
    CHECK(thrown_code(
              [] {
                (void)key::from_spec({"not base64!!", {}, {}, vector_responder_pub});
              },
              &what) == errc::invalid_key);
    CHECK(what.find("originator_priv") != std::string::npos);
    CHECK(what.find("not base64") == std::string::npos);
    // 16 bytes, 33 bytes, and far too long.
    CHECK(thrown_code([] { (void)key::from_private("AAECAwQFBgcICQoLDA0ODw=="); }, &what) ==
          errc::invalid_key);
    CHECK(what.find("got 16 bytes") != std::string::npos);
    CHECK(thrown_code([] {
            (void)key::from_private("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g");
          }) == errc::invalid_key);
    CHECK(thrown_code([] { (void)key::from_private(std::string(400, 'A')); }) == errc::invalid_key);
    CHECK(thrown_code([] { (void)key::from_private(""); }) == errc::invalid_key);
    // A public key that does not belong to the private key.
    CHECK(thrown_code(
              [] {
                (void)key::from_spec(
                    {vector_originator_priv, vector_responder_pub, {}, vector_responder_pub});
              },
              &what) == errc::invalid_key);
    CHECK(what.find("originator_pub does not belong") != std::string::npos);
    // Public keys alone give no role.
    CHECK(thrown_code(
              [] {
                (void)key::from_spec({{}, vector_originator_pub, {}, vector_responder_pub});
              },
              &what) == errc::invalid_key);
    CHECK(what.find("insufficient keys") != std::string::npos);
    // An all-zero public key is a low-order point: no usable shared key.
    CHECK(thrown_code([] {
            (void)key::from_spec(
                {vector_originator_priv, {}, {}, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="});
          }) == errc::invalid_key);
  }

  TEST_CASE("clone duplicates secrets; move leaves nothing behind") {
    key a = key::from_spec(vector_key_spec());
    key b = a.clone();
    CHECK(a.same_secrets(b));
    CHECK(b.shared_key(key_role::originator) != a.shared_key(key_role::originator));
    CHECK_FALSE(a.same_secrets(key::from_private(vector_originator_priv)));
    CHECK_FALSE(
        a.same_secrets(key::from_spec({vector_originator_priv, {}, {}, vector_responder_pub})));

    key moved = std::move(a);
    CHECK(moved.same_secrets(b));
    // NOLINTBEGIN(bugprone-use-after-move): checking the moved-from state is the point
    CHECK_FALSE(a.can(key_role::originator));
    CHECK_FALSE(a.can(key_role::responder));
    CHECK(a.shared_key(key_role::originator) == nullptr);
    CHECK_FALSE(a.public_key(key_role::originator).has_value());
    key c = key::from_private(vector_responder_priv);
    c = std::move(moved);
    CHECK(c.same_secrets(b));
    CHECK_FALSE(moved.can(key_role::originator));
    // NOLINTEND(bugprone-use-after-move)
  }

  TEST_CASE("generate_key_pair gives a usable pair") {
    key_pair p = generate_key_pair();
    CHECK(p.private_key.size() == 44);
    CHECK(p.public_key.size() == 44);
    key k = key::from_private(p.private_key);
    CHECK(k.public_key(key_role::originator) == p.public_key);
    CHECK(generate_key_pair().public_key != p.public_key);
  }
}

TEST_SUITE("codec.key_ring") {
  TEST_CASE("lookup is the longest character-wise prefix, then the default") {
    key_ring ring;
    CHECK(ring.find("com.example.topic") == nullptr);
    ring.set_key("com.example.", key::from_private(vector_originator_priv));
    ring.set_key("com.example.top", key::from_private(vector_responder_priv), key_policy::lax);
    const key_ring::entry* e = ring.find("com.example.topology");  // the documented pitfall
    REQUIRE(e != nullptr);
    CHECK(e->policy == key_policy::lax);
    CHECK(e->k->public_key(key_role::originator) == vector_responder_pub);
    e = ring.find("com.example.other");
    REQUIRE(e != nullptr);
    CHECK(e->policy == key_policy::strict);
    CHECK(e->k->public_key(key_role::originator) == vector_originator_pub);
    CHECK(ring.find("com.exampl") == nullptr);
    CHECK(ring.find("") == nullptr);

    ring.set_key("", key::from_spec(vector_key_spec()));
    e = ring.find("org.other");
    REQUIRE(e != nullptr);
    CHECK(e->k->same_secrets(key::from_spec(vector_key_spec())));
    CHECK(ring.find("")->k->same_secrets(key::from_spec(vector_key_spec())));
    CHECK(ring.size() == 3);

    // set_key replaces; require_encryption replaces with a key-less strict entry.
    ring.require_encryption("com.example.top");
    e = ring.find("com.example.topic");
    REQUIRE(e != nullptr);
    CHECK_FALSE(e->k.has_value());
    CHECK(e->policy == key_policy::strict);
    CHECK(ring.size() == 3);
  }

  TEST_CASE("a ring built from a default key") {
    key_ring ring(key::from_private(vector_originator_priv), key_policy::lax);
    REQUIRE(ring.find("anything") != nullptr);
    CHECK(ring.find("anything")->policy == key_policy::lax);
  }
}

TEST_SUITE("codec.key_file") {
  TEST_CASE("a full key-ring document") {
    const std::string doc =
        R"({
      "": {"originator_priv": ")" +
        vector_originator_priv + R"(", "responder_pub": ")" + vector_responder_pub +
        R"(", "originator_pub": null, "responder_priv": null},
      "com.example.": {"originator_priv": ")" +
        vector_originator_priv + R"(",
                       "originator_pub": ")" +
        vector_originator_pub + R"(",
                       "responder_priv": ")" +
        vector_responder_priv + R"(",
                       "responder_pub": ")" +
        vector_responder_pub + R"(", "policy": "lax"},
      "com.secret.": {"policy": "strict"},
      "com.sub.": {"originator_pub": ")" +
        vector_originator_pub + R"(", "responder_priv": ")" + vector_responder_priv + R"("}
    })";
    key_ring ring = parse_key_ring(doc);
    CHECK(ring.size() == 4);
    const auto* d = ring.find("org.x");
    REQUIRE(d != nullptr);
    CHECK(d->policy == key_policy::strict);
    CHECK(d->k->can(key_role::originator));
    CHECK_FALSE(d->k->can(key_role::responder));
    const auto* e = ring.find("com.example.topic");
    REQUIRE(e != nullptr);
    CHECK(e->policy == key_policy::lax);
    CHECK(hex(e->k->shared_key(key_role::responder), key_size) == vector_k_hex);
    const auto* s = ring.find("com.secret.x");
    REQUIRE(s != nullptr);
    CHECK_FALSE(s->k.has_value());
    const auto* r = ring.find("com.sub.x");
    REQUIRE(r != nullptr);
    CHECK(r->k->can(key_role::responder));
    CHECK_FALSE(r->k->can(key_role::originator));
  }

  TEST_CASE("every malformed document gets a clear errc::invalid_key naming the problem") {
    struct bad_case {
      std::string doc;
      std::string expected;  // substring of the message
      std::string supplied;  // the (bad) key material in the document, never echoed
    };
    const std::string priv = vector_originator_priv;
    const std::string pub = vector_originator_pub;
    // Bad values that look like key material: a message quoting the input would contain them.
    const std::string short_key = "AAECAwQFBgcICQoLDA0ODw==";
    const std::string not_base64 = "c2VjcmV0LWtleS1tYXRlcmlhbA@@";
    const bad_case cases[] = {
        {"{\"\": {\"originator_priv\": \"" + priv + "\"", "not valid JSON", priv},
        {"{\"\": {\"originator_priv\": \"" + not_base64 + "\", }", "not valid JSON", not_base64},
        {"{\"\": {\"responder_priv\": \"" + short_key, "not valid JSON", short_key},
        {"", "not valid JSON", ""},
        {"[\"" + priv + "\"]", "top level must be a JSON object", priv},
        {R"({"a.": ")" + priv + R"("})", "entry \"a.\": must be an object", priv},
        {R"({"a.": {"origin_priv": ")" + priv + R"("}})", "unknown field \"origin_priv\"", priv},
        {R"({"a.": {"policy": "open"}})", "\"policy\" must be", ""},
        {R"({"a.": {"policy": "lax"}})", "a \"lax\" entry needs keys", ""},
        {R"({"a.": {"originator_priv": 5}})", "\"originator_priv\" must be a Base64 string", ""},
        {R"({"a.": {"originator_priv": ")" + not_base64 + R"("}})",
         "originator_priv is not valid Base64", not_base64},
        {R"({"a.": {"responder_priv": ")" + short_key + R"("}})", "got 16 bytes", short_key},
        {R"({"a.": {"originator_pub": ")" + pub + R"("}})", "insufficient keys", pub},
        {R"({"a.": {"originator_priv": ")" + priv + R"(", "originator_pub": ")" +
             std::string(vector_responder_pub) + R"("}})",
         "does not belong", std::string(vector_responder_pub)},
    };
    for (const auto& c : cases) {
      CAPTURE(c.doc);
      std::string what;
      CHECK(thrown_code([&] { (void)parse_key_ring(c.doc, "keys.json"); }, &what) ==
            errc::invalid_key);
      CHECK(what.find(c.expected) != std::string::npos);
      CHECK(what.find("keys.json") == 0);
      // Key material is never echoed: neither the value supplied nor any part of the vector keys.
      if (!c.supplied.empty()) CHECK(what.find(c.supplied.substr(0, 12)) == std::string::npos);
      CHECK(what.find(priv.substr(0, 12)) == std::string::npos);
    }
  }

  TEST_CASE("load_key_ring checks permissions like ssh") {
    temp_dir dir;
    const auto path = dir.path() / "keys.json";
    {
      std::ofstream f(path);
      f << R"({"": {"originator_priv": ")" << vector_originator_priv << R"(", "responder_priv": ")"
        << vector_originator_priv << R"("}})";
    }
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    key_ring ring = load_key_ring(path);
    REQUIRE(ring.find("x") != nullptr);
    CHECK(ring.find("x")->k->public_key(key_role::originator) == vector_originator_pub);

    // Any group or other bit refuses the file, execute bits included (as ssh does).
    for (unsigned mode : {0640u, 0604u, 0620u, 0660u, 0644u, 0610u, 0601u, 0602u, 0710u}) {
      CAPTURE(mode);
      REQUIRE(::chmod(path.c_str(), mode) == 0);
      std::string what;
      CHECK(thrown_code([&] { (void)load_key_ring(path); }, &what) ==
            boost::system::errc::permission_denied);
      CHECK(what.find(path.string()) != std::string::npos);
      CHECK(what.find("chmod 600") != std::string::npos);
      CHECK(load_key_ring(path, permission_check::skip).size() == 1);
    }

    std::string what;
    CHECK(thrown_code([&] { (void)load_key_ring(dir.path() / "missing.json"); }, &what) ==
          boost::system::errc::no_such_file_or_directory);
    CHECK(what.find("missing.json") != std::string::npos);
    CHECK(thrown_code([&] { (void)load_key_ring(dir.path(), permission_check::skip); }) ==
          errc::invalid_key);

    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    { std::ofstream(path) << "{\"\": {\"originator_priv\": null}"; }
    CHECK(thrown_code([&] { (void)load_key_ring(path); }, &what) == errc::invalid_key);
    CHECK(what.find(path.string()) == 0);
  }
}
