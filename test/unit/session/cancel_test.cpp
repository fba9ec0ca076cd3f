// Per-operation cancellation and the client-side deadline: every operation that waits for
// the router completes once with operation_aborted (or timed_out) and leaves the protocol
// consistent.
#include "scripted_transport.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

using namespace wampbox;
using namespace wampbox::test;
using namespace std::chrono_literals;

namespace {

/// Counts completions and keeps the last error.
struct outcome {
  int completions = 0;
  std::exception_ptr error;
  auto handler() {
    return [this](std::exception_ptr e, auto&&...) {
      ++completions;
      error = e;
    };
  }
};

/// Starts `op(token)` with a bound cancellation slot, emits terminal cancellation, and checks
/// that the operation completed exactly once with operation_aborted and cleared its slot.
template <typename Start>
void cancel_and_check(fixture& f, Start op) {
  asio::cancellation_signal signal;
  outcome out;
  op(asio::bind_cancellation_slot(signal.slot(), out.handler()));
  f.settle();
  REQUIRE(out.completions == 0);
  signal.emit(asio::cancellation_type::terminal);
  f.settle();
  CHECK(out.completions == 1);
  CHECK(code_of(out.error) == asio::error::operation_aborted);
  CHECK_FALSE(signal.slot().has_handler());
  signal.emit(asio::cancellation_type::terminal);  // again: nothing happens
  f.settle();
  CHECK(out.completions == 1);
}

}  // namespace

TEST_CASE("a canceled call sends CANCEL in the chosen mode; its late answer is ignored") {
  for (auto mode : {cancel_mode::kill, cancel_mode::killnowait, cancel_mode::skip}) {
    fixture f;
    f.join();
    call_options options;
    options.cancel_mode = mode;
    wire::id request = 0;
    cancel_and_check(f, [&](auto token) {
      f.s.async_call("com.example.p", nullptr, nullptr, options, token);
      f.settle();
      request = f.last()[1].get<wire::id>();
    });
    const char* name = mode == cancel_mode::kill         ? "kill"
                       : mode == cancel_mode::killnowait ? "killnowait"
                                                         : "skip";
    CHECK(f.last() == value::array({49, request, {{"mode", name}}}));
    f.router->push(value::array({8, 48, request, value::object(), "wamp.error.canceled"}));
    f.settle();
    CHECK_FALSE(f.disconnected);
  }
}

TEST_CASE("a canceled subscribe is undone with UNSUBSCRIBE when SUBSCRIBED arrives") {
  fixture f;
  f.join();
  wire::id request = 0;
  int events = 0;
  cancel_and_check(f, [&](auto token) {
    f.s.async_subscribe(
        "com.example.t", [&](const event&) { ++events; }, {}, token);
    f.settle();
    request = f.last()[1].get<wire::id>();
  });
  f.router->push(value::array({33, request, 55}));
  f.settle();
  CHECK(f.last()[0] == 34);
  CHECK(f.last()[2] == 55);
  f.router->push(value::array({36, 55, 1, value::object(), value::array({1})}));
  f.settle();
  CHECK(events == 0);
}

TEST_CASE("a canceled register is undone with UNREGISTER when REGISTERED arrives") {
  fixture f;
  f.join();
  wire::id request = 0;
  cancel_and_check(f, [&](auto token) {
    f.s.async_register(
        "com.example.p", [](invocation, responder r) { r.yield(); }, {}, token);
    f.settle();
    request = f.last()[1].get<wire::id>();
  });
  f.router->push(value::array({65, request, 88}));
  f.settle();
  CHECK(f.last()[0] == 66);
  CHECK(f.last()[2] == 88);
  f.router->push(value::array({68, 5, 88, value::object()}));
  f.settle();
  CHECK(f.last()[4] == "wamp.error.no_such_registration");
}

TEST_CASE("canceled acknowledged publish, unsubscribe and unregister stop waiting") {
  fixture f;
  f.join();
  publish_options ack;
  ack.acknowledge = true;
  cancel_and_check(
      f, [&](auto token) { f.s.async_publish("com.example.t", nullptr, nullptr, ack, token); });
  f.router->push(value::array({17, f.last()[1], 99}));  // the late PUBLISHED is ignored
  f.settle();

  const auto sub = f.subscribe("com.example.t", [](const event&) {});
  cancel_and_check(f, [&](auto token) { f.s.async_unsubscribe(sub, token); });
  CHECK(f.last()[0] == 34);

  f.register_procedure("com.example.p", [](invocation, responder) {});
  cancel_and_check(f, [&](auto token) {
    f.s.async_unregister(registration{777, "com.example.p"}, token);
  });
  CHECK(f.last()[0] == 66);
  CHECK_FALSE(f.disconnected);
  CHECK(f.s.is_joined());
}

TEST_CASE("a canceled join aborts and closes the transport") {
  fixture f;
  f.s.attach(f.router);
  cancel_and_check(f, [&](auto token) { f.s.async_join(join_options{}, token); });
  CHECK(f.last()[0] == 3);
  CHECK(f.router->closed);
  CHECK_FALSE(f.s.is_joined());
}

TEST_CASE("a canceled leave closes the transport at once") {
  fixture f;
  f.join();
  cancel_and_check(f, [&](auto token) { f.s.async_leave("wamp.close.normal", token); });
  CHECK(f.router->closed);
  CHECK_FALSE(f.s.is_joined());
}

TEST_CASE("the session's timeout bounds every wait for the router") {
  fixture f;
  f.s.set_timeout(30ms);
  f.s.attach(f.router);
  outcome join;
  f.s.async_join(join_options{}, join.handler());
  f.run_until([&] { return join.completions > 0; });
  CHECK(join.completions == 1);
  CHECK(code_of(join.error) == asio::error::timed_out);
  CHECK(f.router->closed);

  fixture g;
  g.join();
  g.s.set_timeout(30ms);
  outcome call, subscribe, reg, pub;
  publish_options ack;
  ack.acknowledge = true;
  g.s.async_call("com.example.p", nullptr, nullptr, {}, call.handler());
  g.s.async_subscribe(
      "com.example.t", [](const event&) {}, {}, subscribe.handler());
  g.s.async_register(
      "com.example.r", [](invocation, responder) {}, {}, reg.handler());
  g.s.async_publish("com.example.t", nullptr, nullptr, ack, pub.handler());
  g.run_until([&] {
    return call.completions && subscribe.completions && reg.completions && pub.completions;
  });
  for (auto* o : {&call, &subscribe, &reg, &pub}) {
    CHECK(o->completions == 1);
    CHECK(code_of(o->error) == asio::error::timed_out);
  }
  CHECK(g.s.is_joined());  // a slow router does not end the session
}

TEST_CASE("a timeout built with awaitable operators cancels the operation (default token)") {
  using namespace asio::experimental::awaitable_operators;
  fixture f;
  f.join();
  bool timer_won = false;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
        // the default token makes the call an awaitable, fit for awaitable operators
        auto first =
            co_await (f.s.async_call("com.example.p") || timer.async_wait(asio::use_awaitable));
        timer_won = first.index() == 1;
      },
      asio::detached);
  f.run_until([&] { return timer_won; });
  CHECK(timer_won);
  CHECK(f.last()[0] == 49);  // CANCEL
  CHECK(f.last()[2]["mode"] == "kill");
}
