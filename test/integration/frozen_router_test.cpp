// Keep-alive against a router frozen with SIGSTOP: its sockets stay open and the kernel keeps
// acknowledging, so only the keep-alive can notice. The session must end with
// errc::keepalive_timeout within interval + timeout (plus slack), and a call pending meanwhile
// must fail. The test router answers RawSocket PING only with --rawsocket-ping (Crossbar.io
// does not answer it at all; see transport_options::rawsocket_keepalive).
#include "harness.hpp"
#include "router_process.hpp"

using namespace wampbox;
using namespace wampbox::test;

namespace {

constexpr auto interval = 300ms;
constexpr auto timeout = 300ms;
// Scheduling on a loaded machine, and the time from the last answered ping to the freeze.
constexpr auto slack = 1500ms;

}  // namespace

TEST_CASE("keep-alive: a frozen router ends the session with keepalive_timeout") {
  test_pki pki;
  router_process router({"--rawsocket-ping", "--tls-cert", pki.file("router.pem"), "--tls-key",
                         pki.file("router.key")});
  for (const char* scheme : {"ws", "rs", "wss", "rss"}) {
    CAPTURE(scheme);
    transport::transport_options o(router.url(scheme), wire::serializer_kind::json);
    if (o.url.rfind("wss", 0) == 0 || o.url.rfind("rss", 0) == 0) {
      o.url.replace(o.url.find("127.0.0.1"), 9, "localhost");
      o.tls_ca_file = pki.file("ca.pem");
    }
    o.keepalive_interval = interval;
    o.keepalive_timeout = timeout;
    o.rawsocket_keepalive = true;
    run([&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      session s(ex);
      co_await s.async_connect(o, use_awaitable);
      co_await s.async_join({}, use_awaitable);
      std::exception_ptr ended_with;
      latch ended(ex);
      s.on_disconnect([&](std::exception_ptr e) {
        ended_with = e;
        ended.notify();
      });

      // Pings are answered: an idle session outlives several intervals.
      co_await sleep(4 * interval);
      REQUIRE(s.is_joined());

      router.freeze();
      const auto frozen_at = std::chrono::steady_clock::now();
      std::exception_ptr call_failed;
      latch call_done(ex);
      s.async_call(unique_uri("com.example.frozen"), nullptr, nullptr, {},
                   [&](std::exception_ptr e, call_result) {
                     call_failed = e;
                     call_done.notify();
                   });
      co_await ended.wait(interval + timeout + slack);
      const auto detected_after = std::chrono::steady_clock::now() - frozen_at;
      router.thaw();
      CHECK(detected_after >= timeout);
      CHECK(detected_after <= interval + timeout + slack);
      REQUIRE(ended_with);
      try {
        std::rethrow_exception(ended_with);
      } catch (const error& e) {
        CHECK(e.code() == errc::keepalive_timeout);
        CHECK_MESSAGE(std::string(e.what()).find("keep-alive") != std::string::npos, e.what());
      }
      co_await call_done.wait();
      CHECK(call_failed);
      CHECK_FALSE(s.is_joined());
    });
  }
}

TEST_CASE("keep-alive: RawSocket PINGs are off by default, so a Crossbar-like router keeps us") {
  // The router answers no RawSocket PING, as Crossbar.io: one PING would cost the connection.
  router_process router({});
  for (const char* scheme : {"rs", "unix"}) {
    CAPTURE(scheme);
    transport::transport_options o(router.url(scheme), wire::serializer_kind::json);
    o.keepalive_interval = 100ms;
    o.keepalive_timeout = 100ms;
    run([&]() -> asio::awaitable<void> {
      session s(co_await asio::this_coro::executor);
      co_await s.async_connect(o, use_awaitable);
      co_await s.async_join({}, use_awaitable);
      co_await sleep(1000ms);
      CHECK(s.is_joined());
      co_await s.async_leave("wamp.close.normal", use_awaitable);
    });
  }
}
