// The API's conveniences: args(...), typed handlers, RAII handles, errors without exceptions.
#include "scripted_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace wampbox;
using namespace wampbox::test;

TEST_CASE("args(...) builds positional arguments; absent kwargs and options need no mention") {
  fixture f;
  f.join();
  f.s.async_publish("com.example.t", args(21.5, "°C"), nullptr, {},
                    [](std::exception_ptr, std::optional<wire::id>) {});
  f.settle();
  CHECK(f.last() == value::array({16, f.last()[1], value::object(), "com.example.t",
                                  value::array({21.5, "°C"})}));
  CHECK(args() == value::array());
}

TEST_CASE("a typed callee converts arguments and answers invalid_argument when they do not fit") {
  fixture f;
  f.join();
  f.s.async_register(
      "com.example.add", [](int a, int b) { return a + b; }, {},
      [](std::exception_ptr e, registration) { REQUIRE_FALSE(e); });
  f.settle();
  f.router->push(value::array({65, f.last()[1], 777}));
  f.settle();
  auto invoke = [&f](wire::id request, value arguments) {
    f.router->push(value::array({68, request, 777, value::object(), std::move(arguments)}));
    f.settle();
    return f.last();
  };
  CHECK(invoke(1, args(2, 3)) == value::array({70, 1, value::object(), args(5)}));
  for (const auto& bad : {args("2", 3), args(2), args(2, 3, 4), args(2.5, 3)}) {
    CAPTURE(bad);
    const auto answer = invoke(2, bad);
    CHECK(answer[0] == 8);
    CHECK(answer[4] == "wamp.error.invalid_argument");
  }
}

TEST_CASE("a typed subscriber converts arguments; a mismatch goes to on_event_error") {
  fixture f;
  f.join();
  std::vector<std::pair<double, std::string>> got;
  std::vector<std::string> refused;
  f.s.on_event_error([&](const std::string&, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const wamp_error& w) {
      refused.push_back(w.uri());
    }
  });
  f.s.async_subscribe(
      "com.example.t", [&](double v, std::string unit) { got.emplace_back(v, std::move(unit)); },
      {}, [](std::exception_ptr, subscription) {});
  f.settle();
  f.router->push(value::array({33, f.last()[1], 55}));
  f.settle();
  f.router->push(value::array({36, 55, 1, value::object(), args(21.5, "°C")}));
  f.router->push(value::array({36, 55, 2, value::object(), args("warm", "°C")}));
  f.settle();
  REQUIRE(got.size() == 1);
  CHECK(got[0] == std::pair<double, std::string>{21.5, "°C"});
  CHECK(refused == std::vector<std::string>{"wamp.error.invalid_argument"});
}

TEST_CASE("scoped handles end their subscription and registration, and may outlive the session") {
  fixture f;
  f.join();
  const auto sub = f.subscribe("com.example.t", [](const event&) {});
  {
    scoped_subscription keep(f.s, sub);
    scoped_subscription moved = std::move(keep);
    f.settle();
    CHECK(f.last()[0] != 34);  // still subscribed
  }
  f.settle();
  CHECK(f.last()[0] == 34);
  CHECK(f.last()[2] == 55);

  f.register_procedure("com.example.p", [](invocation, responder r) { r.yield(); });
  scoped_registration outlives(f.s, registration{777, "com.example.p"});
  const auto sent = f.router->sent.size();
  f.held.reset();
  outlives.reset();  // the session is gone: nothing happens, nothing crashes
  f.settle();
  CHECK(f.router->sent.size() == sent);
}

TEST_CASE("errors without exceptions: as_tuple in a coroutine") {
  fixture f;
  f.join();
  boost::system::error_code code;
  bool finished = false;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        auto [e, result] = co_await f.s.async_call("com.example.missing", args(1), nullptr, {},
                                                   asio::as_tuple(asio::use_awaitable));
        code = code_of(e);
        finished = true;
      },
      asio::detached);
  f.settle();
  f.router->push(
      value::array({8, 48, f.last()[1], value::object(), "wamp.error.no_such_procedure"}));
  f.settle();
  REQUIRE(finished);
  CHECK(code == errc::wamp_error);
}
