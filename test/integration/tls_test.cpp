// TLS transports (wss://, rss://) against the test router with TLS listeners, using a PKI the
// test makes itself: verified sessions, encrypted pub/sub over TLS, every refusal path with
// its reason, mutual TLS. No SUBCASEs: doctest would rerun the whole test case, PKI and
// router included, for each.
#include "harness.hpp"
#include "router_process.hpp"

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wire/serializer.hpp>

#include <optional>

using namespace wampbox;
using namespace wampbox::test;

namespace {

/// The router's certificate is for DNS:localhost only.
std::string on_localhost(std::string url) {
  const auto at = url.find("127.0.0.1");
  REQUIRE(at != std::string::npos);
  return url.replace(at, 9, "localhost");
}

transport::transport_options trusting(
    const test_pki& pki, std::string url,
    wire::serializer_kind serializer = wire::serializer_kind::json) {
  transport::transport_options o(std::move(url), serializer);
  o.tls_ca_file = pki.file("ca.pem");
  return o;
}

/// Connecting a session with `o` fails: the error it fails with.
error connect_failure(const transport::transport_options& o) {
  std::optional<error> failure;
  run([&]() -> asio::awaitable<void> {
    session s(co_await asio::this_coro::executor);
    try {
      co_await s.async_connect(o, use_awaitable);
    } catch (const error& e) {
      failure = e;
    }
  });
  REQUIRE_MESSAGE(failure.has_value(), "connected although it must not: " << o.url);
  return *failure;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Connects, joins and leaves with `o`.
void join_and_leave(const transport::transport_options& o) {
  run([&]() -> asio::awaitable<void> {
    session s(co_await asio::this_coro::executor);
    co_await s.async_connect(o, use_awaitable);
    co_await s.async_join({}, use_awaitable);
    CHECK(s.is_joined());
    co_await s.async_leave("wamp.close.normal", use_awaitable);
  });
}

/// The tls-unique channel binding of a transport connected with `o`.
std::string channel_binding(const transport::transport_options& o) {
  std::string binding;
  run([&]() -> asio::awaitable<void> {
    auto t =
        co_await transport::async_connect(co_await asio::this_coro::executor, o, use_awaitable);
    binding = t->channel_binding_tls_unique();
    t->close();
  });
  return binding;
}

}  // namespace

TEST_CASE("TLS: wss and rss sessions with the router's certificate and host name verified") {
  test_pki pki;
  router_process router(
      {"--tls-cert", pki.file("router.pem"), "--tls-key", pki.file("router.key")});
  for (const char* scheme : {"wss", "rss"}) {
    for (auto serializer : {wire::serializer_kind::json, wire::serializer_kind::cbor}) {
      CAPTURE(scheme);
      CAPTURE(wire::serializer_name(serializer));
      join_and_leave(trusting(pki, on_localhost(router.url(scheme)), serializer));
    }
  }
  {
    INFO("a CA directory instead of a CA file");
    auto o = trusting(pki, on_localhost(router.url("wss")));
    o.tls_ca_file.clear();
    o.tls_ca_dir = pki.file("ca-dir");
    join_and_leave(o);
  }
  {
    INFO("channel binding: the Finished message on TLS, different per connection; none on TCP");
    for (const char* scheme : {"wss", "rss"}) {
      CAPTURE(scheme);
      const auto first = channel_binding(trusting(pki, on_localhost(router.url(scheme))));
      const auto second = channel_binding(trusting(pki, on_localhost(router.url(scheme))));
      // 12 bytes in TLS 1.2, the handshake hash's length (32 or 48) in TLS 1.3
      CHECK((first.size() == 12 || first.size() == 32 || first.size() == 48));
      CHECK(first != second);
    }
    CHECK(channel_binding({router.url("ws"), wire::serializer_kind::json}).empty());
  }
}

TEST_CASE("TLS: end-to-end encrypted publish and subscribe over wss") {
  test_pki pki;
  router_process router(
      {"--tls-cert", pki.file("router.pem"), "--tls-key", pki.file("router.key")});
  run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const auto pair = codec::generate_key_pair();
    auto ring = std::make_shared<const codec::key_ring>(codec::key::from_private(pair.private_key));
    session pub(ex), sub(ex);
    for (session* s : {&pub, &sub}) {
      s->set_payload_codec(std::make_shared<codec::cryptobox_codec>(ring));
      co_await s->async_connect(
          trusting(pki, on_localhost(router.url("wss")), wire::serializer_kind::msgpack),
          use_awaitable);
      co_await s->async_join({}, use_awaitable);
    }
    const auto topic = unique_uri("com.example.tls");
    std::optional<event> got;
    latch arrived(ex);
    co_await sub.async_subscribe(
        topic,
        [&](const event& e) {
          got = e;
          arrived.notify();
        },
        {}, use_awaitable);
    publish_options ack;
    ack.acknowledge = true;
    co_await pub.async_publish(topic, wire::read_json(R"(["secret over TLS",42])"), nullptr, ack,
                               use_awaitable);
    co_await arrived.wait();
    REQUIRE(got.has_value());
    CHECK(got->encrypted);
    CHECK(got->args == wire::read_json(R"(["secret over TLS",42])"));
    co_await pub.async_leave("wamp.close.normal", use_awaitable);
    co_await sub.async_leave("wamp.close.normal", use_awaitable);
  });
}

TEST_CASE("TLS: a router certificate that does not verify is refused with the reason") {
  test_pki pki;
  router_process router(
      {"--tls-cert", pki.file("router.pem"), "--tls-key", pki.file("router.key")});
  for (const char* scheme : {"wss", "rss"}) {
    CAPTURE(scheme);
    {
      INFO("certificate for another host name");
      // The certificate is for localhost; 127.0.0.1 is the same socket, but not its name.
      const auto e = connect_failure(trusting(pki, router.url(scheme)));
      CHECK(e.code() == errc::tls_verification_failed);
      CHECK_MESSAGE(contains(e.what(),
                             "IP address mismatch (certificate is for localhost, not "
                             "127.0.0.1)"),
                    e.what());
    }
    {
      INFO("certificate from a CA not trusted");
      auto o = trusting(pki, on_localhost(router.url(scheme)));
      o.tls_ca_file = pki.file("other-ca.pem");
      const auto e = connect_failure(o);
      CHECK(e.code() == errc::tls_verification_failed);
      CHECK_MESSAGE(contains(e.what(), "unable to get local issuer certificate"), e.what());
      CHECK_MESSAGE(contains(e.what(), "issued by \"CN=wampbox test CA\""), e.what());
    }
    {
      INFO("verification is on by default: the system trust store does not know the test CA");
      auto o = trusting(pki, on_localhost(router.url(scheme)));
      o.tls_ca_file.clear();
      CHECK(connect_failure(o).code() == errc::tls_verification_failed);
    }
  }
  {
    INFO("TLS to a plain port: the TLS layer's reason");
    auto o = trusting(pki, on_localhost("rss" + router.url("rs").substr(2)));
    const auto e = connect_failure(o);
    CHECK(e.code() == errc::handshake_failed);
    CHECK_MESSAGE(contains(e.what(), "TLS: "), e.what());
  }
}

TEST_CASE("TLS: a valid certificate for another host name is refused") {
  test_pki pki;
  // Signed by the trusted CA, within its validity, but for DNS:elsewhere.invalid only.
  router_process router(
      {"--tls-cert", pki.file("elsewhere.pem"), "--tls-key", pki.file("elsewhere.key")});
  for (const char* scheme : {"wss", "rss"}) {
    CAPTURE(scheme);
    const auto e = connect_failure(trusting(pki, on_localhost(router.url(scheme))));
    CHECK(e.code() == errc::tls_verification_failed);
    CHECK_MESSAGE(contains(e.what(), "(certificate is for elsewhere.invalid, not localhost)"),
                  e.what());
  }
}

TEST_CASE("TLS: unusable CA, certificate or key files are refused before connecting") {
  test_pki pki;
  const std::string url = "wss://localhost:1/ws";  // never reached
  struct refusal {
    const char* name;
    void (*configure)(transport::transport_options&, const test_pki&);
    const char* reason;
  };
  const refusal cases[] = {
      {"missing CA file", [](auto& o, const auto& p) { o.tls_ca_file = p.file("nonexistent.pem"); },
       "cannot load CA file"},
      {"CA directory that is not one",
       [](auto& o, const auto& p) { o.tls_ca_dir = p.file("ca.pem"); }, "is not a directory"},
      {"certificate without key",
       [](auto& o, const auto& p) { o.tls_certificate_file = p.file("client.pem"); }, "needs both"},
      {"key of another certificate",
       [](auto& o, const auto& p) {
         o.tls_certificate_file = p.file("client.pem");
         o.tls_key_file = p.file("stranger.key");
       },
       "stranger.key"},
      {"a certificate that is no PEM file",
       [](auto& o, const auto& p) {
         o.tls_certificate_file = p.file("ca.srl");
         o.tls_key_file = p.file("client.key");
       },
       "cannot load client certificate"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto o = trusting(pki, url);
    c.configure(o, pki);
    const auto e = connect_failure(o);
    CHECK(e.code() == errc::tls_setup_failed);
    CHECK_MESSAGE(contains(e.what(), c.reason), e.what());
  }
}

TEST_CASE("TLS: mutual TLS, the router requires a client certificate from its CA") {
  test_pki pki;
  router_process router({"--tls-cert", pki.file("router.pem"), "--tls-key", pki.file("router.key"),
                         "--tls-client-ca", pki.file("ca.pem")});
  for (const char* scheme : {"wss", "rss"}) {
    CAPTURE(scheme);
    const auto without_certificate = trusting(pki, on_localhost(router.url(scheme)));
    {
      INFO("with the client certificate");
      auto o = without_certificate;
      o.tls_certificate_file = pki.file("client.pem");
      o.tls_key_file = pki.file("client.key");
      join_and_leave(o);
    }
    {
      INFO("without one: refused");
      const auto e = connect_failure(without_certificate);
      CHECK(e.code() == errc::handshake_failed);
      CHECK_MESSAGE(contains(e.what(), "TLS: "), e.what());
    }
    {
      INFO("with one from another CA: refused");
      auto o = without_certificate;
      o.tls_certificate_file = pki.file("stranger.pem");
      o.tls_key_file = pki.file("stranger.key");
      const auto e = connect_failure(o);
      CHECK(e.code() == errc::handshake_failed);
      CHECK_MESSAGE(contains(e.what(), "TLS: "), e.what());
    }
  }
}
