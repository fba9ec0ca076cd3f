// Integration tests of the Advanced Profile's publish/subscribe features: exclusion and
// eligibility by session id, authid and authrole, publisher disclosure, pattern subscriptions
// (encrypted: keyed by the concrete topic), event retention — plaintext and encrypted.
#include "harness.hpp"

using namespace wampbox;
using namespace wampbox::test;

namespace {

/// A subscriber session that records the first argument of every event on one topic.
struct recorder {
  explicit recorder(asio::any_io_executor ex) : s(ex), marker(ex) {}
  session s;
  std::vector<int> got;
  std::vector<event> events;
  latch marker;  ///< notified by the event whose first argument is `marker_value`
  int marker_value = -1;

  asio::awaitable<void> subscribe(const std::string& topic, subscribe_options options = {}) {
    co_await s.async_subscribe(
        topic,
        [this](const event& e) {
          events.push_back(e);
          if (!e.args.is_array() || e.args.empty()) return;
          got.push_back(e.args[0].get<int>());
          if (got.back() == marker_value) marker.notify();
        },
        std::move(options), use_awaitable);
  }
};

}  // namespace

TEST_CASE("publication exclusion and eligibility by session id, authid and authrole") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    recorder pub(ex), b(ex), c(ex);
    const auto topic = unique_uri("com.example.lists");
    for (auto* r : {&pub, &b, &c}) {
      co_await open(r->s, ep);
      co_await r->subscribe(topic);
      r->marker_value = 99;
    }
    const auto& bw = b.s.welcome();
    const auto& cw = c.s.welcome();
    auto publish = [&](int n, publish_options o) -> asio::awaitable<void> {
      o.acknowledge = true;
      co_await pub.s.async_publish(topic, list_of(n), nullptr, o, use_awaitable);
    };
    publish_options o1;
    o1.exclude = {bw.session_id};
    co_await publish(1, o1);
    publish_options o2;
    o2.eligible = std::vector<wire::id>{bw.session_id};
    co_await publish(2, o2);
    publish_options o3;
    o3.exclude_authid = {bw.authid};
    co_await publish(3, o3);
    publish_options o4;
    o4.eligible_authid = std::vector<std::string>{cw.authid};
    co_await publish(4, o4);
    publish_options o5;
    o5.exclude_authrole = {bw.authrole};  // both subscribers have the same role
    co_await publish(5, o5);
    publish_options o6;
    o6.eligible_authrole = std::vector<std::string>{cw.authrole};
    co_await publish(6, o6);
    publish_options o7;
    o7.exclude_me = false;
    o7.eligible = std::vector<wire::id>{pub.s.welcome().session_id};
    co_await publish(7, o7);
    publish_options everyone;
    everyone.exclude_me = false;
    co_await publish(99, everyone);
    for (auto* r : {&pub, &b, &c}) co_await r->marker.wait();
    CHECK(b.got == std::vector<int>{2, 6, 99});
    CHECK(c.got == std::vector<int>{1, 3, 4, 6, 99});
    CHECK(pub.got == std::vector<int>{7, 99});
  });
}

TEST_CASE("publisher disclosure reaches subscribers as a typed identity") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    session pub(ex);
    recorder sub(ex);
    co_await open(pub, ep);
    co_await open(sub.s, ep);
    const auto topic = unique_uri("com.example.who");
    sub.marker_value = 2;
    co_await sub.subscribe(topic);
    publish_options disclose;
    disclose.disclose_me = true;
    co_await pub.async_publish(topic, list_of(1), nullptr, disclose, use_awaitable);
    co_await pub.async_publish(topic, list_of(2), nullptr, {}, use_awaitable);
    co_await sub.marker.wait();
    REQUIRE(sub.events.size() == 2);
    // Crossbar.io discloses by role configuration only (router-config/: not for anonymous).
    if (against_test_router()) REQUIRE(sub.events[0].publisher.has_value());
    if (sub.events[0].publisher) {
      CHECK(sub.events[0].publisher->session == pub.welcome().session_id);
      CHECK(sub.events[0].publisher->authid == pub.welcome().authid);
      CHECK(sub.events[0].publisher->authrole == pub.welcome().authrole);
    }
    CHECK_FALSE(sub.events[1].publisher.has_value());
  });
}

TEST_CASE("pattern subscriptions get the concrete topic; encrypted events use its key") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const auto base = unique_uri("com.example.patterns");
    for (bool encrypted : {false, true}) {
      session pub(ex);
      recorder prefix(ex), wildcard(ex);
      if (encrypted) {
        // The key covers the concrete topics, not the patterns: a codec that looked keys up by
        // the subscribed pattern would find none and not decrypt.
        pub.set_payload_codec(shared_key_codec({base + ".x.a"}));
        prefix.s.set_payload_codec(shared_key_codec({base + ".x.a"}));
        wildcard.s.set_payload_codec(shared_key_codec({base + ".x.a"}));
      }
      std::vector<std::string> errors;
      for (auto* r : {&prefix, &wildcard}) {
        r->s.on_event_error(
            [&](const std::string& topic, std::exception_ptr) { errors.push_back(topic); });
        co_await open(r->s, ep);
        r->marker_value = 2;
      }
      co_await open(pub, ep);
      subscribe_options p, w;
      p.match = match_policy::prefix;
      w.match = match_policy::wildcard;
      co_await prefix.subscribe(base + ".x.", p);
      co_await wildcard.subscribe(base + ".x..leaf", w);
      co_await pub.async_publish(base + ".x.a.b", list_of(1), nullptr, {}, use_awaitable);
      co_await pub.async_publish(base + ".x.any.leaf", list_of(2), J(R"({"k":"v"})"), {},
                                 use_awaitable);
      co_await prefix.marker.wait();
      co_await wildcard.marker.wait();
      CHECK(errors.empty());
      REQUIRE(prefix.events.size() == 2);
      CHECK(prefix.events[0].topic == base + ".x.a.b");
      CHECK(prefix.events[1].topic == base + ".x.any.leaf");
      CHECK(prefix.events[1].encrypted == encrypted);
      REQUIRE(wildcard.events.size() == 1);
      CHECK(wildcard.events[0].topic == base + ".x.any.leaf");
      CHECK(wildcard.events[0].kwargs == J(R"({"k":"v"})"));
      CHECK(wildcard.events[0].encrypted == encrypted);
    }
  });
}

TEST_CASE("event retention: get_retained delivers the last retained event, also encrypted") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const auto base = unique_uri("com.example.retained");
    for (bool encrypted : {false, true}) {
      const auto topic = base + (encrypted ? ".sealed" : ".plain");
      session pub(ex);
      recorder late(ex), plain(ex);
      if (encrypted)
        for (auto* s : {&pub, &late.s, &plain.s}) s->set_payload_codec(shared_key_codec({base}));
      co_await open(pub, ep);
      publish_options retain;
      retain.retain = true;
      retain.acknowledge = true;
      co_await pub.async_publish(topic, list_of(1), nullptr, retain, use_awaitable);
      co_await pub.async_publish(topic, list_of(2), J(R"({"last":true})"), retain, use_awaitable);
      subscribe_options get_retained;
      get_retained.get_retained = true;
      late.marker_value = 2;
      co_await open(late.s, ep);
      co_await late.subscribe(topic, get_retained);
      co_await late.marker.wait();
      REQUIRE(late.events.size() == 1);
      CHECK(late.events[0].retained);
      CHECK(late.events[0].kwargs == J(R"({"last":true})"));
      CHECK(late.events[0].encrypted == encrypted);
      // Without get_retained nothing old arrives: the first event is a new one.
      plain.marker_value = 3;
      co_await open(plain.s, ep);
      co_await plain.subscribe(topic);
      publish_options ack;
      ack.acknowledge = true;
      co_await pub.async_publish(topic, list_of(3), nullptr, ack, use_awaitable);
      co_await plain.marker.wait();
      CHECK(plain.got == std::vector<int>{3});
      CHECK_FALSE(plain.events[0].retained);
    }
  });
}
