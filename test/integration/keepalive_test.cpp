// Keep-alive against the router under test (also Crossbar.io through integration-external):
// with a short interval an idle session sends pings (WebSocket; RawSocket PINGs stay off by
// default), the router answers them, and the session stays up.
#include "harness.hpp"

using namespace wampbox;
using namespace wampbox::test;

TEST_CASE("keep-alive: pings are answered, an idle session stays joined") {
  for (const auto& ep : endpoints()) {
    if (ep.serializer != wire::serializer_kind::json) continue;  // pings do not depend on it
    CAPTURE(ep.url);
    run([&]() -> asio::awaitable<void> {
      session s(co_await asio::this_coro::executor);
      transport::transport_options o(ep.url, ep.serializer);
      o.tls_ca_file = router_ca_file();
      o.keepalive_interval = 100ms;
      o.keepalive_timeout = 500ms;
      co_await s.async_connect(o, use_awaitable);
      co_await s.async_join({}, use_awaitable);
      co_await sleep(1500ms);  // many intervals without traffic
      CHECK(s.is_joined());
      const auto count =
          co_await s.async_call("wamp.session.count", nullptr, nullptr, {}, use_awaitable);
      CHECK(count.args.is_array());
      co_await s.async_leave("wamp.close.normal", use_awaitable);
    });
  }
}
