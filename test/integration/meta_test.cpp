// Integration tests of the typed meta API helpers (include/wampbox/session/meta.hpp). Other
// sessions may share an external router, so the checks are about this test's own sessions.
#include "harness.hpp"

#include <wampbox/session/meta.hpp>

#include <algorithm>

using namespace wampbox;
using namespace wampbox::test;

namespace {

bool contains(const std::vector<wire::id>& ids, wire::id id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST_CASE("session meta procedures") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    session a(ex), b(ex);
    co_await open(a, ep);
    co_await open(b, ep);
    auto count = co_await meta::session_count(a);
    CHECK(count >= 2);
    auto ids = co_await meta::session_list(a);
    CHECK(contains(ids, a.welcome().session_id));
    CHECK(contains(ids, b.welcome().session_id));
    auto info = co_await meta::session_get(a, b.welcome().session_id);
    CHECK(info.session == b.welcome().session_id);
    CHECK(info.authid == b.welcome().authid);
    CHECK(info.authrole == b.welcome().authrole);
    CHECK(info.authmethod == "anonymous");
    co_await b.async_leave("wamp.close.normal", use_awaitable);
    try {
      co_await meta::session_get(a, b.welcome().session_id);
      FAIL("a session that left is still there");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "wamp.error.no_such_session");
    }
  });
}

TEST_CASE("subscription meta procedures") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    session a(ex), b(ex);
    co_await open(a, ep);
    co_await open(b, ep);
    const auto topic = unique_uri("com.example.meta.topic");
    auto ignore = [](const event&) {};
    auto exact = co_await a.async_subscribe(topic, ignore, {}, use_awaitable);
    co_await b.async_subscribe(topic, ignore, {}, use_awaitable);
    subscribe_options prefix;
    prefix.match = match_policy::prefix;
    auto pattern = co_await b.async_subscribe(topic + ".", ignore, prefix, use_awaitable);

    auto lists = co_await meta::subscription_list(a);
    CHECK(contains(lists.exact, exact.id));
    CHECK(contains(lists.prefix, pattern.id));
    auto exact_found = co_await meta::subscription_lookup(a, topic);
    CHECK(exact_found == std::optional(exact.id));
    auto prefix_found = co_await meta::subscription_lookup(a, topic + ".", match_policy::prefix);
    CHECK(prefix_found == std::optional(pattern.id));
    auto none_found = co_await meta::subscription_lookup(a, topic + ".none");
    CHECK_FALSE(none_found.has_value());
    auto matching = co_await meta::subscription_match(a, topic + ".sub");
    CHECK(matching == std::vector<wire::id>{pattern.id});
    auto no_match = co_await meta::subscription_match(a, topic + "none.x");
    CHECK(no_match.empty());
    auto info = co_await meta::subscription_get(a, pattern.id);
    CHECK(info.id == pattern.id);
    CHECK(info.uri == topic + ".");
    CHECK(info.match == match_policy::prefix);
    CHECK_FALSE(info.created.empty());
    CHECK_FALSE(info.invoke.has_value());
    auto subscribers = co_await meta::subscription_subscribers(a, exact.id);
    std::sort(subscribers.begin(), subscribers.end());
    auto expected = std::vector<wire::id>{a.welcome().session_id, b.welcome().session_id};
    std::sort(expected.begin(), expected.end());
    CHECK(subscribers == expected);
    auto pattern_subscribers = co_await meta::subscription_subscriber_count(a, pattern.id);
    CHECK(pattern_subscribers == 1);
    co_await b.async_unsubscribe(pattern, use_awaitable);
    try {
      co_await meta::subscription_get(a, pattern.id);
      FAIL("a subscription without subscribers is still there");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "wamp.error.no_such_subscription");
    }
  });
}

TEST_CASE("registration meta procedures") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    session a(ex), b(ex);
    co_await open(a, ep);
    co_await open(b, ep);
    const auto procedure = unique_uri("com.example.meta.proc");
    auto nothing = [](const invocation&) { return call_result{}; };
    register_options shared;
    shared.invoke = invocation_policy::roundrobin;
    auto reg = co_await a.async_register(procedure, nothing, shared, use_awaitable);
    co_await b.async_register(procedure, nothing, shared, use_awaitable);
    register_options wildcard;
    wildcard.match = match_policy::wildcard;
    auto pattern =
        co_await a.async_register(procedure + "..leaf", nothing, wildcard, use_awaitable);

    auto lists = co_await meta::registration_list(a);
    CHECK(contains(lists.exact, reg.id));
    CHECK(contains(lists.wildcard, pattern.id));
    auto reg_found = co_await meta::registration_lookup(a, procedure);
    CHECK(reg_found == std::optional(reg.id));
    auto pattern_found =
        co_await meta::registration_lookup(a, procedure + "..leaf", match_policy::wildcard);
    CHECK(pattern_found == std::optional(pattern.id));
    auto reg_matched = co_await meta::registration_match(a, procedure);
    CHECK(reg_matched == std::optional(reg.id));
    auto pattern_matched = co_await meta::registration_match(a, procedure + ".x.leaf");
    CHECK(pattern_matched == std::optional(pattern.id));
    auto none_matched = co_await meta::registration_match(a, procedure + ".none");
    CHECK_FALSE(none_matched.has_value());
    auto info = co_await meta::registration_get(a, reg.id);
    CHECK(info.uri == procedure);
    CHECK(info.match == match_policy::exact);
    CHECK(info.invoke == std::optional(invocation_policy::roundrobin));
    auto callees = co_await meta::registration_callees(a, reg.id);
    CHECK(callees == std::vector<wire::id>{a.welcome().session_id, b.welcome().session_id});
    auto pattern_callees = co_await meta::registration_callee_count(a, pattern.id);
    CHECK(pattern_callees == 1);
    co_await a.async_unregister(pattern, use_awaitable);
    try {
      co_await meta::registration_callee_count(a, pattern.id);
      FAIL("a registration without callees is still there");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "wamp.error.no_such_registration");
    }
  });
}
