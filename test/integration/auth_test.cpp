// Authentication against a real router: every method with the right and a wrong secret, over
// every router URL (RawSocket, WebSocket, Unix socket). The principals are those of
// test/data/auth/router-auth.json, which the test router loads (--auth) and
// router-config/.crossbar/config.json holds for Crossbar.io.
#include "harness.hpp"

#include <wampbox/auth/methods.hpp>

#include <fstream>
#include <iterator>

using namespace wampbox;
using namespace wampbox::test;

namespace {

// router-config/cryptosign-user.test-only.key (published test-only key of "cryptosign-user")
const char* const cryptosign_seed =
    "51b8da9164a00b6a1808b6ee2bd065effca69184dd78de1b1cb3e50a5aadd198";

/// The test-only OpenSSH key whose public key "cryptosign-user" also authorizes.
auth::cryptosign_key openssh_key() {
  std::ifstream in(std::string(WAMPBOX_TEST_DATA_DIR) + "/auth/openssh-ed25519.test-only.key");
  REQUIRE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return auth::cryptosign_key::from_openssh(text);
}

/// Each router URL once, the serializers taking turns.
std::vector<endpoint> one_per_url() {
  std::vector<endpoint> out;
  const wire::serializer_kind kinds[] = {
      wire::serializer_kind::json, wire::serializer_kind::msgpack, wire::serializer_kind::cbor};
  const auto urls = router_urls();
  for (std::size_t i = 0; i < urls.size(); ++i) out.push_back({urls[i], kinds[i % 3]});
  REQUIRE_FALSE(out.empty());
  return out;
}

/// Connects to `ep` and joins realm1 with `a`; returns the WELCOME.
asio::awaitable<welcome_info> join_with(const endpoint& ep, auth::authenticator a) {
  session s(co_await asio::this_coro::executor);
  co_await s.async_connect(transport::transport_options{ep.url, ep.serializer}, use_awaitable);
  join_options jo;
  jo.authenticator = std::move(a);
  auto welcome = co_await s.async_join(std::move(jo), use_awaitable);
  co_await s.async_leave("wamp.close.normal", use_awaitable);
  co_return welcome;
}

/// Joins with `right` (must succeed as `authid`, role "user") and with `wrong` (must be refused
/// with the router's reason and message), on every URL.
void check_method(const std::function<auth::authenticator()>& right,
                  const std::function<auth::authenticator()>& wrong, const std::string& authid,
                  const std::string& method) {
  for (const auto& ep : one_per_url()) {
    CAPTURE(ep.name());
    run([&]() -> asio::awaitable<void> {
      const auto welcome = co_await join_with(ep, right());
      CHECK(welcome.authid == authid);
      CHECK(welcome.authrole == "user");
      CHECK(welcome.details["authmethod"] == method);
      try {
        co_await join_with(ep, wrong());
        FAIL("joined with a wrong secret");
      } catch (const wamp_error& e) {
        CHECK(e.code() == make_error_code(errc::authentication_failed));
        CHECK(e.uri() == "wamp.error.not_authorized");
        // The router's message follows its reason.
        CHECK(std::string(e.what()).size() > e.uri().size() + 2);
        MESSAGE(std::string(e.what()));
      }
    });
  }
}

}  // namespace

TEST_CASE("anonymous, announced explicitly") {
  for (const auto& ep : one_per_url()) {
    run([&]() -> asio::awaitable<void> {
      const auto welcome = co_await join_with(ep, auth::anonymous());
      CHECK(welcome.authrole == "anonymous");
      CHECK(welcome.details["authmethod"] == "anonymous");
    });
  }
}

TEST_CASE("ticket") {
  check_method([] { return auth::ticket("ticket-user", auth::secret("change-me-ticket")); },
               [] { return auth::ticket("ticket-user", auth::secret("wrong-ticket")); },
               "ticket-user", "ticket");
}

TEST_CASE("WAMP-CRA") {
  check_method([] { return auth::wampcra("cra-user", auth::secret("change-me-secret")); },
               [] { return auth::wampcra("cra-user", auth::secret("wrong-secret")); }, "cra-user",
               "wampcra");
}

TEST_CASE("WAMP-CRA with a salted secret") {
  check_method(
      [] { return auth::wampcra("cra-salted-user", auth::secret("change-me-salted-secret")); },
      [] { return auth::wampcra("cra-salted-user", auth::secret("change-me-secret")); },
      "cra-salted-user", "wampcra");
}

TEST_CASE("WAMP-Cryptosign with a hex seed") {
  check_method(
      [] {
        return auth::cryptosign("cryptosign-user",
                                auth::cryptosign_key::from_hex_seed(cryptosign_seed));
      },
      [] {
        return auth::cryptosign("cryptosign-user",
                                auth::cryptosign_key::from_hex_seed(std::string(64, '7')));
      },
      "cryptosign-user", "cryptosign");
}

TEST_CASE("WAMP-Cryptosign: an authorized public key with a signature by another key") {
  const auto authorized = auth::cryptosign_key::from_hex_seed(cryptosign_seed);
  const auto other = auth::cryptosign_key::from_hex_seed(std::string(64, '7'));
  for (const auto& ep : one_per_url()) {
    run([&]() -> asio::awaitable<void> {
      session s(co_await asio::this_coro::executor);
      co_await s.async_connect(transport::transport_options{ep.url, ep.serializer}, use_awaitable);
      join_options jo;
      jo.authextra = value{{"pubkey", authorized.public_key_hex()}};
      jo.authenticator =
          auth::custom("cryptosign", "cryptosign-user", [other](const challenge& c, auth::reply r) {
            r.answer(other.sign_challenge(c.extra["challenge"].get<std::string>()));
          });
      try {
        co_await s.async_join(std::move(jo), use_awaitable);
        FAIL("joined with a signature by an unauthorized key");
      } catch (const wamp_error& e) {
        CHECK(e.uri() == "wamp.error.not_authorized");
        CHECK(e.code() == make_error_code(errc::authentication_failed));
        MESSAGE(std::string(e.what()));
      }
    });
  }
}

TEST_CASE("WAMP-Cryptosign with an OpenSSH key, the principal found by its public key") {
  for (const auto& ep : one_per_url()) {
    run([&]() -> asio::awaitable<void> {
      const auto welcome = co_await join_with(ep, auth::cryptosign("", openssh_key()));
      CHECK(welcome.authid == "cryptosign-user");
    });
  }
}

TEST_CASE("WAMP-SCRAM with Argon2id") {
  check_method([] { return auth::scram("scram-user", auth::secret("change-me-password")); },
               [] { return auth::scram("scram-user", auth::secret("wrong-password")); },
               "scram-user", "scram");
}

TEST_CASE("WAMP-SCRAM with PBKDF2") {
  check_method([] { return auth::scram("scram-pbkdf2-user", auth::secret("change-me-password")); },
               [] { return auth::scram("scram-pbkdf2-user", auth::secret("wrong-password")); },
               "scram-pbkdf2-user", "scram");
}

TEST_CASE("an unknown principal and an unconfigured method are refused with the reason") {
  for (const auto& ep : one_per_url()) {
    run([&]() -> asio::awaitable<void> {
      try {
        co_await join_with(ep, auth::ticket("nobody", auth::secret("x")));
        FAIL("an unknown principal joined");
      } catch (const wamp_error& e) {
        CHECK(e.code() == make_error_code(errc::authentication_failed));
      }
      try {
        co_await join_with(ep, auth::custom("x-unknown", "someone", [](auto&&, auth::reply) {}));
        FAIL("an unconfigured method joined");
      } catch (const wamp_error& e) {
        CHECK(e.uri() == "wamp.error.no_auth_method");
        CHECK(e.code() == make_error_code(errc::authentication_failed));
      }
    });
  }
}
