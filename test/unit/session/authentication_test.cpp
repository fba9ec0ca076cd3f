// Joining with authentication against a scripted router: HELLO's details, CHALLENGE answered
// now or later or not at all, refusals and their errors, WELCOME's WAMP-SCRAM check.
#include "scripted_transport.hpp"

#include <wampbox/auth/crypto.hpp>
#include <wampbox/auth/methods.hpp>

#include <sodium.h>

#include <thread>

using namespace wampbox;
using namespace wampbox::test;

namespace {

/// A join started on `f` with `jo`; `outcome` gets its completion.
struct pending_join {
  std::exception_ptr error;
  bool done = false;
  pending_join(fixture& f, join_options jo) {
    f.s.attach(f.router);
    f.s.async_join(std::move(jo), [this](std::exception_ptr e, welcome_info) {
      error = e;
      done = true;
    });
    f.settle();
  }
};

join_options with(auth::authenticator a) {
  join_options jo;
  jo.authenticator = std::move(a);
  return jo;
}

value welcome(value authextra = value::object()) {
  return value::array({2, 12345, {{"authextra", std::move(authextra)}, {"roles", {}}}});
}

/// Joins with `jo` and answers HELLO with CHALLENGE(method, extra(HELLO.Details)); REQUIREs
/// that the join failed with authentication_failed after sending ABORT; returns its message.
std::string refused(join_options jo, const std::string& method,
                    const std::function<value(const value&)>& extra) {
  fixture f;
  pending_join j(f, std::move(jo));
  f.router->push(value::array({4, method, extra(f.last()[2])}));
  f.settle();
  REQUIRE(j.error);
  CHECK(code_of(j.error) == errc::authentication_failed);
  CHECK(f.last()[0] == 3);
  CHECK(f.last()[2] == "wamp.error.cannot_authenticate");
  return exception_message(j.error);
}

/// `refused` for a CHALLENGE whose extra does not depend on HELLO.
std::string refused(join_options jo, const std::string& method, const value& extra) {
  return refused(std::move(jo), method, [&](const value&) { return extra; });
}

}  // namespace

TEST_CASE("ticket: HELLO announces method, authid, authrole and authextra; CHALLENGE answered") {
  fixture f;
  auto jo = with(auth::ticket("ticket-user", auth::secret("change-me-ticket")));
  jo.authrole = "user";
  jo.authextra = value{{"device", "sensor-7"}};
  pending_join j(f, jo);
  const auto& details = f.last()[2];
  CHECK(details["authmethods"] == value::array({"ticket"}));
  CHECK(details["authid"] == "ticket-user");
  CHECK(details["authrole"] == "user");
  CHECK(details["authextra"] == value{{"device", "sensor-7"}});
  f.router->push(value::array({4, "ticket", value::object()}));
  f.settle();
  CHECK(f.last() == value::array({5, "change-me-ticket", value::object()}));
  f.router->push(welcome());
  f.settle();
  CHECK(j.done);
  CHECK_FALSE(j.error);
}

TEST_CASE("a join without an authenticator sends no auth details, and refuses a CHALLENGE") {
  fixture f;
  pending_join j(f, join_options{});
  CHECK_FALSE(f.last()[2].contains("authmethods"));
  CHECK_FALSE(f.last()[2].contains("authid"));
  CHECK_FALSE(f.last()[2].contains("authextra"));
  CHECK(refused(join_options{}, "wampcra", value::object()).find("offered none") !=
        std::string::npos);
}

TEST_CASE("a CHALLENGE for another method than the one offered aborts the join") {
  CHECK(refused(with(auth::ticket("ticket-user", auth::secret("t"))), "wampcra",
                value{{"challenge", "x"}})
            .find("'wampcra'") != std::string::npos);
}

TEST_CASE("the router's ABORT reason and message reach the application") {
  fixture f;
  pending_join j(f, with(auth::ticket("ticket-user", auth::secret("wrong"))));
  f.router->push(value::array({4, "ticket", value::object()}));
  f.settle();
  f.router->push(
      value::array({3,
                    {{"message", "ticket in static WAMP-Ticket authentication is invalid"}},
                    "wamp.error.not_authorized"}));
  f.settle();
  REQUIRE(j.error);
  try {
    std::rethrow_exception(j.error);
  } catch (const wamp_error& e) {
    CHECK(e.uri() == "wamp.error.not_authorized");
    CHECK(e.code() == make_error_code(errc::authentication_failed));
    CHECK(std::string(e.what()) ==
          "wamp.error.not_authorized: ticket in static WAMP-Ticket authentication is invalid");
  }
  // Another reason stays a plain abort.
  fixture g;
  pending_join k(g, join_options{});
  g.router->push(value::array({3, value::object(), "wamp.error.no_such_realm"}));
  g.settle();
  CHECK(code_of(k.error) == errc::session_aborted);
}

TEST_CASE("custom: a CHALLENGE answered later, from another thread") {
  fixture f;
  std::optional<auth::reply> held;
  auto jo = with(auth::custom("x-otp", "alice", [&](const challenge& c, auth::reply r) {
    CHECK(c.extra["prompt"] == "code?");
    held = std::move(r);
  }));
  jo.authextra = value{{"device", "phone"}};
  pending_join j(f, jo);
  CHECK(f.last()[2]["authmethods"] == value::array({"x-otp"}));
  CHECK(f.last()[2]["authextra"] == value{{"device", "phone"}});
  f.router->push(value::array({4, "x-otp", {{"prompt", "code?"}}}));
  f.settle();
  REQUIRE(held);
  const auto sent = f.router->sent.size();
  std::thread([r = *held] { r.answer("123456", value{{"k", 1}}); }).join();
  held->answer("ignored: only the first answer counts");
  f.settle();
  REQUIRE(f.router->sent.size() == sent + 1);
  CHECK(f.last() == value::array({5, "123456", {{"k", 1}}}));
  f.router->push(welcome());
  f.settle();
  CHECK_FALSE(j.error);
}

TEST_CASE("custom: a handler that throws, fails, or drops the reply fails the join") {
  const auto refusal = [](std::function<void(const challenge&, auth::reply)> handler) {
    return refused(with(auth::custom("x", "", std::move(handler))), "x", value::object());
  };
  CHECK(refusal([](const challenge&, auth::reply) {
          throw std::runtime_error("no token available");
        }).find("no token available") != std::string::npos);
  CHECK(refusal([](const challenge&, auth::reply r) {
          r.fail(std::make_exception_ptr(std::runtime_error("user said no")));
        }).find("user said no") != std::string::npos);
  CHECK(refusal([](const challenge&, auth::reply) {}).find("without an answer") !=
        std::string::npos);
  CHECK(refusal([](const challenge&, auth::reply r) {
          r.answer("sig", value::array({1}));
        }).find("must be an object") != std::string::npos);
}

TEST_CASE("contradicting join options are refused before HELLO") {
  fixture f;
  f.s.attach(f.router);
  auto jo = with(auth::ticket("ticket-user", auth::secret("t")));
  jo.authid = "someone-else";
  std::exception_ptr failed;
  f.s.async_join(jo, [&](std::exception_ptr e, welcome_info) { failed = e; });
  f.settle();
  CHECK(code_of(failed) == errc::authentication_failed);
  CHECK(f.router->sent.empty());

  auto key = auth::cryptosign_key::from_hex_seed(std::string(64, 'a'));
  auto jc = with(auth::cryptosign("", key));
  jc.authextra = value{{"pubkey", std::string(64, '0')}};
  f.s.async_join(jc, [&](std::exception_ptr e, welcome_info) { failed = e; });
  f.settle();
  CHECK(exception_message(failed).find("authextra.pubkey") != std::string::npos);
  CHECK(f.router->sent.empty());
}

TEST_CASE("cryptosign: pubkey in HELLO; tls-unique binding only when the transport has it") {
  const std::string seed = "51b8da9164a00b6a1808b6ee2bd065effca69184dd78de1b1cb3e50a5aadd198";
  const std::string challenge_hex(64, 'f');
  auto key = auth::cryptosign_key::from_hex_seed(seed);
  {
    fixture f;
    pending_join j(f, with(auth::cryptosign("", key)));
    CHECK_FALSE(f.last()[2].contains("authid"));
    CHECK(f.last()[2]["authextra"] == value{{"pubkey", key.public_key_hex()}});
    f.router->push(value::array({4, "cryptosign", {{"challenge", challenge_hex}}}));
    f.settle();
    CHECK(f.last()[1] == key.sign_challenge(challenge_hex));
  }
  fixture f;
  f.router->tls_unique = "finished message";
  pending_join j(f, with(auth::cryptosign("cryptosign-user", key)));
  CHECK(f.last()[2]["authextra"]["channel_binding"] == "tls-unique");
  f.router->push(value::array({4, "cryptosign", {{"challenge", challenge_hex}}}));
  f.settle();
  std::string channel_id(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(channel_id.data()),
                     reinterpret_cast<const unsigned char*>(f.router->tls_unique.data()),
                     f.router->tls_unique.size());
  CHECK(f.last()[1] == key.sign_challenge(challenge_hex, channel_id));
  CHECK(f.last()[1] != key.sign_challenge(challenge_hex));
}

TEST_CASE("cryptosign: a malformed challenge fails the join") {
  const auto key = auth::cryptosign_key::from_hex_seed(std::string(64, '1'));
  CHECK(refused(with(auth::cryptosign("", key)), "cryptosign", value{{"challenge", "abcd"}})
            .find("64 hex digits") != std::string::npos);
  CHECK(
      refused(with(auth::cryptosign("", key)), "cryptosign", value::object()).find("'challenge'") !=
      std::string::npos);
}

namespace {

/// Plays a WAMP-SCRAM router (PBKDF2, 16 iterations) up to the CHALLENGE's answer; returns the
/// AuthMessage and the salted password the answer must have used.
std::pair<std::string, std::string> scram_challenge(fixture& f) {
  const auto client_nonce = f.last()[2]["authextra"]["nonce"].get<std::string>();
  const std::string server_nonce = client_nonce + "c2VydmVyLW5vbmNl";  // text concatenation
  const std::string salt_b64 = "c2FsdC1zYWx0LXNhbHQ=";
  f.router->push(value::array({4,
                               "scram",
                               {{"nonce", server_nonce},
                                {"salt", salt_b64},
                                {"kdf", "pbkdf2"},
                                {"iterations", 16},
                                {"memory", nullptr}}}));
  f.settle();
  const auto message =
      auth::scram_auth_message("scram-user", client_nonce, server_nonce, salt_b64, 16);
  const auto salted =
      auth::scram_salted_password(auth::scram_kdf::pbkdf2, "pw", "salt-salt-salt", 16, 0);
  CHECK(f.last()[1] == auth::scram_client_proof(salted, message));
  CHECK(f.last()[2]["nonce"] == server_nonce);
  return {message, salted};
}

}  // namespace

TEST_CASE("scram: a fresh nonce per join, the proof, and the router's signature checked") {
  fixture f;
  const auto scram = auth::scram("scram-user", auth::secret("pw"));
  pending_join j(f, with(scram));
  const auto nonce = f.last()[2]["authextra"]["nonce"];
  auto [message, salted] = scram_challenge(f);
  f.router->push(
      welcome({{"scram_server_signature", auth::scram_server_signature(salted, message)}}));
  f.settle();
  CHECK(j.done);
  CHECK_FALSE(j.error);

  fixture g;
  pending_join k(g, with(scram));
  CHECK(g.last()[2]["authextra"]["nonce"] != nonce);
  scram_challenge(g);
  g.router->push(welcome({{"scram_server_signature", "AAAA"}}));
  g.settle();
  REQUIRE(k.error);
  CHECK(code_of(k.error) == errc::authentication_failed);
  CHECK(exception_message(k.error).find("server signature") != std::string::npos);
  CHECK_FALSE(g.s.is_joined());
  CHECK(g.router->closed);

  fixture h;
  pending_join l(h, with(scram));
  scram_challenge(h);
  h.router->push(welcome());
  h.settle();
  CHECK(exception_message(l.error).find("lacks") != std::string::npos);
}

TEST_CASE("scram: refusals of a rogue or broken CHALLENGE") {
  const auto scram = auth::scram("scram-user", auth::secret("pw"));
  struct bad {
    const char* name;
    value extra;
  };
  for (const auto& [name, extra] : std::vector<bad>{
           {"foreign nonce",
            {{"nonce", "Zm9yZWlnbg=="},
             {"salt", "c2FsdA=="},
             {"kdf", "pbkdf2"},
             {"iterations", 1}}},
           {"unknown kdf", {{"salt", "c2FsdA=="}, {"kdf", "md5"}, {"iterations", 1}}},
           {"bad salt", {{"salt", "!!"}, {"kdf", "pbkdf2"}, {"iterations", 1}}},
           {"zero iterations", {{"salt", "c2FsdA=="}, {"kdf", "pbkdf2"}, {"iterations", 0}}},
           {"huge iterations", {{"salt", "c2FsdA=="}, {"kdf", "pbkdf2"}, {"iterations", 1u << 30}}},
           {"argon2 without memory",
            {{"salt", "MTIzNDU2Nzg5MGFiY2RlZg=="}, {"kdf", "argon2id-13"}, {"iterations", 1}}},
           {"argon2 huge memory",
            {{"salt", "MTIzNDU2Nzg5MGFiY2RlZg=="},
             {"kdf", "argon2id-13"},
             {"iterations", 1},
             {"memory", 1u << 31}}},
           {"argon2 too much work",
            {{"salt", "MTIzNDU2Nzg5MGFiY2RlZg=="},
             {"kdf", "argon2id-13"},
             {"iterations", 16384},
             {"memory", 1024 * 1024}}},
           {"argon2 short salt",
            {{"salt", "c2FsdA=="}, {"kdf", "argon2id-13"}, {"iterations", 1}, {"memory", 64}}},
       }) {
    CAPTURE(name);
    refused(with(scram), "scram", [&extra = extra](const value& hello) {
      value challenge_extra = extra;
      if (!challenge_extra.contains("nonce"))
        challenge_extra["nonce"] = hello["authextra"]["nonce"].get<std::string>() + "eHl6";
      return challenge_extra;
    });
  }
}

TEST_CASE("method constructors refuse what cannot work") {
  CHECK_THROWS_AS(auth::wampcra("", auth::secret("s")), error);
  CHECK_THROWS_AS(auth::scram("", auth::secret("s")), error);
  CHECK_THROWS_AS(auth::scram("caf\xc3\xa9", auth::secret("s")), error);
  CHECK_THROWS_AS(auth::custom("x", "", nullptr), error);
}
