// Integration-test harness: router URLs from the environment, coroutine runner with a deadline.
#pragma once

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>
#include <wampbox/wire/serializer.hpp>

#include <doctest/doctest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace wampbox::test {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

/// One router endpoint with one serializer.
struct endpoint {
  std::string url;
  wire::serializer_kind serializer;
  std::string name() const { return url + " " + std::string(wire::serializer_name(serializer)); }
};

/// The router URLs under test: $WAMPBOX_ROUTER_URLS (space-separated), set by
/// test/router/with_router. Empty when no router is configured.
inline std::vector<std::string> router_urls() {
  std::vector<std::string> urls;
  if (const char* env = std::getenv("WAMPBOX_ROUTER_URLS")) {
    std::istringstream in(env);
    for (std::string u; in >> u;) urls.push_back(u);
  }
  return urls;
}

/// CA file for wss:// and rss:// router URLs: $WAMPBOX_TEST_ROUTER_CA (e.g. the CA of a
/// Crossbar.io with TLS transports); empty means the system trust store.
inline std::string router_ca_file() {
  const char* env = std::getenv("WAMPBOX_TEST_ROUTER_CA");
  return env ? env : "";
}

/// Every URL with every serializer.
inline std::vector<endpoint> endpoints() {
  std::vector<endpoint> out;
  for (const auto& url : router_urls())
    for (auto s :
         {wire::serializer_kind::json, wire::serializer_kind::msgpack, wire::serializer_kind::cbor})
      out.push_back({url, s});
  return out;
}

/// Runs a coroutine to completion on a fresh io_context, failing the test after `deadline`.
template <typename Factory>
void run(Factory&& make, std::chrono::seconds deadline = 20s) {
  asio::io_context io;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, make(), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  io.run_for(deadline);
  REQUIRE_MESSAGE(finished, "test coroutine did not finish within the deadline");
  if (failure) std::rethrow_exception(failure);
}

/// Runs `body(endpoint)` for every endpoint as its own subcase.
template <typename Body>
void each_endpoint(Body body) {
  for (const auto& ep : endpoints()) {
    SUBCASE(ep.name().c_str()) {
      run([&] { return body(ep); });
    }
  }
}

/// Parses JSON text: GCC 12 miscompiles brace-initialised values holding string literals
/// inside coroutines, so the tests write their values as JSON.
inline value J(const char* json) { return wire::read_json(json); }

/// Connects and joins realm1 on an endpoint.
inline asio::awaitable<void> open(session& s, const endpoint& ep,
                                  std::size_t max_message_size = 16 * 1024 * 1024) {
  transport::transport_options to;
  to.url = ep.url;
  to.serializer = ep.serializer;
  to.max_message_size = max_message_size;
  to.tls_ca_file = router_ca_file();
  co_await s.async_connect(to, use_awaitable);
  join_options jo;
  co_await s.async_join(std::move(jo), use_awaitable);
}

/// A latch for "something happened": wait() returns once notify() was called (or throws after
/// the timeout).
class latch {
 public:
  explicit latch(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  void notify() {
    fired_ = true;
    timer_.cancel();
  }
  asio::awaitable<void> wait(std::chrono::milliseconds timeout = 5000ms) {
    if (fired_) co_return;
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer deadline(timer_.get_executor(), timeout);
    auto r = co_await (timer_.async_wait(asio::as_tuple(use_awaitable)) ||
                       deadline.async_wait(use_awaitable));
    if (r.index() == 1) throw std::runtime_error("timed out waiting for a signal");
  }

 private:
  asio::steady_timer timer_;
  bool fired_ = false;
};

/// Sleeps on the current executor.
inline asio::awaitable<void> sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

/// True when the tests run against the project's test router, false against an external
/// router (WAMPBOX_TEST_ROUTER, e.g. Crossbar.io).
inline bool against_test_router() {
  const char* external = std::getenv("WAMPBOX_TEST_ROUTER");
  return external == nullptr || *external == '\0';
}

/// A one-element array.
inline value list_of(value v) {
  value a = value::array();
  a.push_back(std::move(v));
  return a;
}

/// A call_result with these arguments.
inline call_result make_result(value args, value kwargs = nullptr) {
  call_result r;
  r.args = std::move(args);
  r.kwargs = std::move(kwargs);
  return r;
}

/// A cryptobox codec that encrypts every URI starting with one of `prefixes` with one fixed test
/// key (both roles; the originator private key of payload-encryption.md's test vectors) and
/// leaves other URIs (e.g. the meta procedures) in plaintext. One per session: each has its own
/// replay cache.
inline std::shared_ptr<codec::payload_codec> shared_key_codec(
    const std::vector<std::string>& prefixes) {
  codec::key_ring ring;
  for (const auto& prefix : prefixes)
    ring.set_key(prefix, codec::key::from_private("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="));
  return std::make_shared<codec::cryptobox_codec>(std::move(ring));
}

/// The error code of a wampbox::error (empty for none, or for another exception).
inline boost::system::error_code code_of(std::exception_ptr e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const error& x) {
    return x.code();
  } catch (...) {
    return {};
  }
}

/// A unique URI per test case, so runs against a shared router never interfere.
inline std::string unique_uri(const std::string& base) {
  static unsigned counter = 0;
  return base + "." + std::to_string(::getpid()) + "." + std::to_string(++counter);
}

}  // namespace wampbox::test
