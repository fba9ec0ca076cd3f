// Integration tests of the reconnecting client: fail-over, giving up, and routers that are
// killed and started again. Fail-over uses the router of $WAMPBOX_ROUTER_URLS (the test router
// or Crossbar.io); the restart cases start their own test router (router_process.hpp), which
// they can kill — an external router cannot be restarted by a test.
#include "harness.hpp"
#include "router_process.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>

using namespace wampbox;
using namespace wampbox::test;

namespace {

/// A RawSocket URL on a loopback port where nothing listens (connecting is refused).
std::string refused_url() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  return "rs://127.0.0.1:" + std::to_string(port);
}

/// Client options for `urls` with short delays (a test must not wait for the defaults).
client_options options_for(const std::vector<std::string>& urls) {
  client_options o;
  for (const auto& url : urls) o.routers.emplace_back(url, wire::serializer_kind::msgpack);
  o.backoff.initial_delay = 20ms;
  o.backoff.max_delay = 200ms;
  return o;
}

/// Where async_run's completion lands.
struct run_result {
  bool done = false;
  std::exception_ptr error;
  auto handler() {
    return [this](std::exception_ptr e) {
      done = true;
      error = e;
    };
  }
};

/// A running client of a test router the test owns, kills and restarts.
struct client_of_own_router {
  explicit client_of_own_router(asio::any_io_executor ex, std::size_t queue_limit = 0)
      : router(std::vector<std::string>{}), c(ex, options(router, queue_limit)), lost(ex) {
    c.on_disconnect([this](std::exception_ptr) { lost.notify(); });
    c.async_run(asio::detached);
  }
  /// Kills the router; completes when the client noticed.
  asio::awaitable<void> kill_router() {
    router.kill();
    co_await lost.wait(10s);
  }
  router_process router;
  client c;
  latch lost;

 private:
  static client_options options(const router_process& router, std::size_t queue_limit) {
    auto o = options_for({router.url("rs")});
    o.queue_limit = queue_limit;
    return o;
  }
};

}  // namespace

TEST_CASE("fail-over: a router that refuses is skipped for the next one") {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const auto dead = refused_url();
    client c(ex, options_for({dead, router_urls().front()}));
    std::vector<attempt_failure> failures;
    c.on_attempt_failed([&](const attempt_failure& f) { failures.push_back(f); });
    run_result ran;
    c.async_run(ran.handler());
    const auto w = co_await c.async_wait_connected(use_awaitable);
    CHECK(w.session_id > 0);
    CHECK(c.is_connected());
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].url == dead);
    CHECK(failures[0].attempt == 1);
    CHECK_FALSE(failures[0].giving_up);
    CHECK(exception_message(failures[0].error).find("connection refused") != std::string::npos);
    co_await c.async_leave("wamp.close.normal", use_awaitable);
    co_await sleep(10ms);
    CHECK(ran.done);
    CHECK_FALSE(ran.error);
  });
}

TEST_CASE("backoff: delays grow within their bounds and the client gives up after max_attempts") {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const std::vector<std::string> dead{refused_url(), refused_url()};
    auto opts = options_for(dead);
    opts.backoff.initial_delay = 4ms;
    opts.backoff.max_delay = 16ms;
    opts.backoff.jitter = 0.5;
    opts.backoff.max_attempts = 5;
    client c(ex, opts);
    std::vector<attempt_failure> failures;
    c.on_attempt_failed([&](const attempt_failure& f) { failures.push_back(f); });
    auto [error] = co_await c.async_run(asio::as_tuple(use_awaitable));
    REQUIRE(error);
    CHECK(code_of(error) == make_error_code(errc::not_connected));
    CHECK(exception_message(error).find("gave up after 5 attempts") != std::string::npos);
    REQUIRE(failures.size() == 5);
    const long long base[] = {4, 8, 16, 16};  // initial * 2^(n-1), capped at max_delay
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(failures[i].attempt == i + 1);
      CHECK(failures[i].url == dead[i % 2]);  // the routers in turn
      CHECK_FALSE(failures[i].giving_up);
      CHECK(failures[i].delay.count() >= base[i] / 2);
      CHECK(failures[i].delay.count() <= base[i]);
    }
    CHECK(failures[4].giving_up);
    // A client that gave up says so to every operation, at once.
    auto [perror, id] = co_await c.async_publish("com.example.t", nullptr, nullptr, {},
                                                 asio::as_tuple(use_awaitable));
    CHECK(code_of(perror) == make_error_code(errc::not_connected));
    CHECK(exception_message(perror).find("gave up") != std::string::npos);
    auto [werror, w] = co_await c.async_wait_connected(asio::as_tuple(use_awaitable));
    CHECK(code_of(werror) == make_error_code(errc::not_connected));
  });
}

TEST_CASE("after the router restarts, subscriptions and registrations are back; handles work") {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        client_of_own_router own(ex);
        auto& [router, c, lost] = own;
        int connects = 1;  // the first connect came before on_connect was set
        co_await c.async_wait_connected(use_awaitable);
        c.on_connect([&](const welcome_info&) { ++connects; });
        const auto topic = unique_uri("com.example.restart");
        const auto marker = unique_uri("com.example.restart.marker");
        const auto procedure = unique_uri("com.example.restart.add");
        std::vector<value> events;
        latch got(ex), marked(ex);
        auto sub = co_await c.async_subscribe(
            topic,
            [&](const event& e) {
              events.push_back(e.args);
              got.notify();
            },
            {}, use_awaitable);
        co_await c.async_subscribe(
            marker, [&](const event&) { marked.notify(); }, {}, use_awaitable);
        auto reg = co_await c.async_register(
            procedure, [](int a, int b) { return a + b; }, {}, use_awaitable);

        co_await own.kill_router();
        CHECK_FALSE(c.is_connected());
        router.restart();
        co_await c.async_wait_connected(use_awaitable);
        CHECK(connects == 2);

        session other(ex);
        const endpoint restarted{router.url("rs"), wire::serializer_kind::json};  // GCC 12: not
        co_await open(other, restarted);  // a brace-initialised aggregate in a co_await
        auto sum = co_await other.async_call(procedure, args(2, 3), nullptr, {}, use_awaitable);
        CHECK(sum.args == J("[5]"));
        publish_options ack;
        ack.acknowledge = true;
        co_await other.async_publish(topic, J("[1]"), nullptr, ack, use_awaitable);
        co_await got.wait();
        CHECK(events == std::vector<value>{J("[1]")});

        // The handles from before the restart still name their subscription and registration.
        co_await c.async_unsubscribe(sub, use_awaitable);
        co_await c.async_unregister(reg, use_awaitable);
        co_await other.async_publish(topic, J("[2]"), nullptr, ack, use_awaitable);
        co_await other.async_publish(marker, nullptr, nullptr, ack, use_awaitable);
        co_await marked.wait();  // events of one publisher arrive in order
        CHECK(events.size() == 1);
        auto [cerror, r] = co_await other.async_call(procedure, args(2, 3), nullptr, {},
                                                     asio::as_tuple(use_awaitable));
        REQUIRE(cerror);
        CHECK_THROWS_AS(std::rethrow_exception(cerror), wamp_error);
        auto [again] = co_await c.async_unsubscribe(sub, asio::as_tuple(use_awaitable));
        CHECK(exception_message(again).find("no_such_subscription") != std::string::npos);
        co_await other.async_leave("wamp.close.normal", use_awaitable);
        co_await c.async_leave("wamp.close.normal", use_awaitable);
      },
      60s);
}

TEST_CASE("a publication queued while the router is down is delivered after the reconnect") {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        client_of_own_router own(ex, 4);
        auto& [router, c, lost] = own;
        latch got(ex);
        co_await c.async_wait_connected(use_awaitable);
        const auto topic = unique_uri("com.example.queued");
        value received;
        co_await c.async_subscribe(
            topic,
            [&](const event& e) {
              received = e.args;
              got.notify();
            },
            {}, use_awaitable);

        co_await own.kill_router();
        publish_options to_me;
        to_me.acknowledge = true;
        to_me.exclude_me = false;  // the client's own subscription (restored first) receives it
        bool published = false;
        std::exception_ptr publish_error;
        c.async_publish(topic, J("[42]"), nullptr, to_me,
                        [&](std::exception_ptr e, std::optional<wire::id> id) {
                          published = id.has_value();
                          publish_error = e;
                        });
        co_await sleep(50ms);
        CHECK(c.waiting() == 1);
        CHECK_FALSE(published);
        router.restart();
        co_await got.wait(20s);
        CHECK(received == J("[42]"));
        co_await sleep(50ms);
        CHECK(published);
        CHECK(exception_message(publish_error).empty());
        CHECK(c.waiting() == 0);
        co_await c.async_leave("wamp.close.normal", use_awaitable);
      },
      60s);
}

TEST_CASE("while the router is down, publish and call fail at once with not_connected") {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        client_of_own_router own(ex);
        auto& [router, c, lost] = own;
        co_await c.async_wait_connected(use_awaitable);
        co_await own.kill_router();

        publish_options ack;
        ack.acknowledge = true;
        auto [perror, id] = co_await c.async_publish("com.example.down", J("[1]"), nullptr, ack,
                                                     asio::as_tuple(use_awaitable));
        CHECK(code_of(perror) == make_error_code(errc::not_connected));
        CHECK(exception_message(perror).find("not connected to a router (reconnecting, attempt") !=
              std::string::npos);
        CHECK_FALSE(id);
        auto [cerror, r] = co_await c.async_call("com.example.down", nullptr, nullptr, {},
                                                 asio::as_tuple(use_awaitable));
        CHECK(code_of(cerror) == make_error_code(errc::not_connected));
        auto [serror, s] = co_await c.async_subscribe(
            "com.example.down", [](const event&) {}, {}, asio::as_tuple(use_awaitable));
        CHECK(code_of(serror) == make_error_code(errc::not_connected));
        CHECK(c.waiting() == 0);

        router.restart();
        co_await c.async_wait_connected(use_awaitable);
        auto again =
            co_await c.async_publish("com.example.down", J("[2]"), nullptr, ack, use_awaitable);
        CHECK(again.has_value());
        co_await c.async_leave("wamp.close.normal", use_awaitable);
      },
      60s);
}
