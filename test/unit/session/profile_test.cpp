// The Advanced Profile options and details on the wire, against a scripted transport: what
// HELLO announces, how typed options are written, how disclosed identities and retained events
// are read, INTERRUPT reaching the handler, a call's own deadline, the meta API conversions.
#include "scripted_transport.hpp"

#include <wampbox/session/meta.hpp>

using namespace wampbox;
using namespace wampbox::test;

TEST_CASE("HELLO announces exactly the Advanced Profile features that are implemented") {
  fixture f;
  f.join();
  const auto& roles = f.router->sent.front()[2]["roles"];
  auto features = [&](const char* role) {
    std::vector<std::string> names;
    for (auto& [name, on] : roles[role]["features"].items()) {
      CHECK(on == true);
      names.push_back(name);
    }
    return names;
  };
  using names = std::vector<std::string>;
  CHECK(features("publisher") ==
        names{"publisher_exclusion", "publisher_identification", "subscriber_blackwhite_listing"});
  CHECK(features("subscriber") == names{"pattern_based_subscription", "publisher_identification"});
  CHECK(features("caller") == names{"call_canceling", "call_timeout", "caller_identification",
                                    "progressive_call_results"});
  CHECK(features("callee") == names{"call_canceling", "caller_identification",
                                    "pattern_based_registration", "progressive_call_results",
                                    "shared_registration"});
}

TEST_CASE("typed PUBLISH options: lists only when given, an eligibility list even when empty") {
  fixture f;
  f.join();
  publish_options o;
  o.retain = true;
  o.disclose_me = true;
  o.exclude = {1, 2};
  o.exclude_authid = {"mallory"};
  o.exclude_authrole = {"guest"};
  o.eligible = std::vector<wire::id>{};
  o.eligible_authid = std::vector<std::string>{"alice"};
  o.eligible_authrole = std::vector<std::string>{"user"};
  f.s.async_publish("com.example.t", nullptr, nullptr, o, [](auto...) {});
  f.settle();
  CHECK(f.last()[2] == wire::read_json(R"({"retain":true,"disclose_me":true,"exclude":[1,2],
      "exclude_authid":["mallory"],"exclude_authrole":["guest"],"eligible":[],
      "eligible_authid":["alice"],"eligible_authrole":["user"]})"));
  f.s.async_publish("com.example.t", nullptr, nullptr, {}, [](auto...) {});
  f.settle();
  CHECK(f.last()[2] == value::object());
}

TEST_CASE("SUBSCRIBE get_retained and REGISTER invocation policy") {
  fixture f;
  f.join();
  subscribe_options so;
  so.get_retained = true;
  so.match = match_policy::prefix;
  f.s.async_subscribe(
      "com.example.", [](const event&) {}, so, [](auto...) {});
  f.settle();
  CHECK(f.last()[2] == wire::read_json(R"({"get_retained":true,"match":"prefix"})"));
  const std::pair<invocation_policy, const char*> policies[] = {
      {invocation_policy::roundrobin, "roundrobin"},
      {invocation_policy::random, "random"},
      {invocation_policy::first, "first"},
      {invocation_policy::last, "last"}};
  for (auto [policy, name] : policies) {
    register_options ro;
    ro.invoke = policy;
    f.s.async_register(
        "com.example.p", [](const invocation&) { return call_result{}; }, ro, [](auto...) {});
    f.settle();
    CHECK(f.last()[2]["invoke"] == name);
  }
  f.s.async_register(
      "com.example.single", [](const invocation&) { return call_result{}; }, {}, [](auto...) {});
  f.settle();
  CHECK_FALSE(f.last()[2].contains("invoke"));  // single is the default
}

TEST_CASE("EVENT: disclosed publisher and retained flag arrive typed") {
  fixture f;
  f.join();
  std::vector<event> got;
  f.subscribe("com.example.t", [&](const event& e) { got.push_back(e); });
  f.router->push(wire::read_json(R"([36, 55, 1, {"publisher": 42, "publisher_authid": "alice",
      "publisher_authrole": "user", "retained": true}, [1]])"));
  f.router->push(wire::read_json(R"([36, 55, 2, {}, [2]])"));
  f.settle();
  REQUIRE(got.size() == 2);
  REQUIRE(got[0].publisher.has_value());
  CHECK(got[0].publisher->session == 42);
  CHECK(got[0].publisher->authid == "alice");
  CHECK(got[0].publisher->authrole == "user");
  CHECK(got[0].retained);
  CHECK_FALSE(got[1].publisher.has_value());
  CHECK_FALSE(got[1].retained);
}

TEST_CASE("INVOCATION: disclosed caller and router-side timeout arrive typed") {
  fixture f;
  f.join();
  std::vector<invocation> got;
  f.register_procedure("com.example.p", [&](invocation inv, responder r) {
    got.push_back(inv);
    r.yield();
  });
  f.router->push(wire::read_json(
      R"([68, 9, 777, {"caller": 7, "caller_authid": "bob", "timeout": 1500}, [1]])"));
  f.router->push(wire::read_json(R"([68, 10, 777, {}, [1]])"));
  f.settle();
  REQUIRE(got.size() == 2);
  REQUIRE(got[0].caller.has_value());
  CHECK(got[0].caller->session == 7);
  CHECK(got[0].caller->authid == "bob");
  CHECK(got[0].caller->authrole.empty());
  CHECK(got[0].timeout == std::chrono::milliseconds(1500));
  CHECK_FALSE(got[1].caller.has_value());
  CHECK(got[1].timeout == std::chrono::milliseconds(0));
}

TEST_CASE("responder::on_interrupt: INTERRUPT, set afterwards, session end, answered, destroyed") {
  fixture f;
  f.join();
  std::vector<responder> held;
  f.register_procedure("com.example.p", [&](invocation, responder r) { held.push_back(r); });
  auto invoke = [&](int request) {
    f.router->push(value::array({68, request, 777, value::object()}));
    f.settle();
  };
  int interrupts = 0;
  invoke(1);
  held.back().on_interrupt([&] { ++interrupts; });
  f.settle();
  f.router->push(wire::read_json(R"([69, 1, {"mode": "killnowait"}])"));
  f.settle();
  CHECK(interrupts == 1);
  CHECK(f.last()[0] == 8);  // the session answered the router itself
  CHECK(f.last()[4] == "wamp.error.canceled");
  bool late = false;  // set after the interruption: runs right away
  held.back().on_interrupt([&] { late = true; });
  f.settle();
  CHECK(late);

  invoke(2);  // answered first: the handler is dropped, nothing runs later
  bool after_answer = false;
  held.back().on_interrupt([&] { after_answer = true; });
  held.back().yield();
  f.settle();
  f.router->push(wire::read_json(R"([69, 2, {}])"));
  f.settle();
  CHECK_FALSE(after_answer);

  invoke(3);  // the session ends: the callee is told
  bool at_end = false;
  held.back().on_interrupt([&] { at_end = true; });
  f.settle();
  f.router->push(wire::read_json(R"([6, {}, "wamp.close.system_shutdown"])"));
  f.settle();
  CHECK(at_end);
  CHECK(held.back().interrupted());

  fixture g;  // the session object is destroyed: its handlers are not called any more
  g.join();
  std::vector<responder> kept;
  g.register_procedure("com.example.p", [&](invocation, responder r) { kept.push_back(r); });
  g.router->push(value::array({68, 1, 777, value::object()}));
  g.settle();
  bool on_destroy = false;
  kept.back().on_interrupt([&] { on_destroy = true; });
  g.settle();
  g.held.reset();
  g.settle();
  CHECK_FALSE(on_destroy);
  CHECK(kept.back().interrupted());
}

TEST_CASE("call_options::deadline: CANCEL in the chosen mode, timed_out, before the session's") {
  fixture f;
  f.join();
  f.s.set_timeout(std::chrono::seconds(10));
  call_options o;
  o.deadline = std::chrono::milliseconds(50);
  o.cancel_mode = cancel_mode::skip;
  o.timeout = std::chrono::milliseconds(2000);
  std::exception_ptr outcome;
  bool done = false;
  f.s.async_call("com.example.slow", nullptr, nullptr, o, [&](std::exception_ptr e, call_result) {
    outcome = e;
    done = true;
  });
  f.settle();
  CHECK(f.last()[2]["timeout"] == 2000);  // the router-side timeout travels in CALL.Options
  const auto request = f.last()[1];
  f.run_until([&] { return done; });
  REQUIRE(done);
  CHECK(code_of(outcome) == boost::asio::error::timed_out);
  try {
    std::rethrow_exception(outcome);
  } catch (const error& e) {
    CHECK(std::string(e.what()).find("50 ms") != std::string::npos);
  }
  CHECK(f.last() == wire::read_json(R"([49, )" + request.dump() + R"(, {"mode": "skip"}])"));
}

TEST_CASE("meta API conversions: typed results, wrong shapes refused") {
  auto result = [](const char* json) {
    call_result r;
    r.args = wire::read_json(json);
    return r;
  };
  CHECK(meta::convert::count(result("[3]")) == 3);
  CHECK(meta::convert::ids(result("[[1,2]]")) == std::vector<wire::id>{1, 2});
  CHECK(meta::convert::ids(result("[null]")).empty());
  CHECK(meta::convert::maybe_id(result("[7]")) == std::optional<wire::id>(7));
  CHECK_FALSE(meta::convert::maybe_id(result("[null]")).has_value());
  auto lists = meta::convert::lists(result(R"([{"exact":[1],"prefix":[],"wildcard":[2,3]}])"));
  CHECK(lists.exact == std::vector<wire::id>{1});
  CHECK(lists.wildcard == std::vector<wire::id>{2, 3});
  auto entry = meta::convert::entry(result(
      R"([{"id":5,"created":"2026-01-01T00:00:00.000Z","uri":"a.","match":"prefix","invoke":"last"}])"));
  CHECK(entry.id == 5);
  CHECK(entry.match == match_policy::prefix);
  CHECK(entry.invoke == std::optional(invocation_policy::last));
  auto info = meta::convert::session(result(
      R"([{"session":9,"authid":"a","authrole":"r","authmethod":"anonymous","authprovider":"static"}])"));
  CHECK(info.session == 9);
  CHECK(info.authprovider == "static");
  CHECK(std::string(meta::convert::match_name(match_policy::wildcard)) == "wildcard");

  for (const char* bad : {R"(["not a count"])", "[-1]", "[]"})
    CHECK_THROWS_AS(meta::convert::count(result(bad)), wampbox::error);
  CHECK_THROWS_AS(meta::convert::ids(result(R"([[1,"x"]])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::ids(result(R"([{}])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::entry(result(R"([{"id":1,"uri":"a","match":"sideways"}])")),
                  wampbox::error);
  CHECK_THROWS_AS(meta::convert::entry(result(R"([{"id":1,"invoke":"all"}])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::entry(result(R"([{"uri":"a"}])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::session(result(R"([{"authid":"x"}])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::session(result(R"([{"session":1,"authid":5}])")), wampbox::error);
  CHECK_THROWS_AS(meta::convert::lists(result("[[1]]")), wampbox::error);
}
