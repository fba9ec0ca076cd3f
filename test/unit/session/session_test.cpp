// Session logic against a scripted transport: the test plays the router message by message.
#include "scripted_transport.hpp"

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/key_ring.hpp>
#include <wampbox/wire/message.hpp>

using namespace wampbox;
using namespace wampbox::test;

TEST_CASE("HELLO announces the four roles; payload features are the codec's to announce") {
  fixture plain;
  plain.join();
  const auto& hello = plain.router->sent.front();
  CHECK(hello[0] == 1);
  CHECK(hello[1] == "realm1");
  for (const char* role : {"publisher", "subscriber", "caller", "callee"}) {
    CHECK(hello[2]["roles"].contains(role));
    CHECK_FALSE(hello[2]["roles"][role]["features"].contains("payload_transparency"));
  }
  CHECK(plain.s.welcome().session_id == 12345);

  // A codec that announces nothing (the recording codec) adds nothing ...
  fixture quiet;
  quiet.join(std::make_shared<recording_codec>());
  CHECK_FALSE(quiet.router->sent.front()[2]["roles"]["subscriber"]["features"].contains(
      "payload_encryption_cryptobox"));
  // ... and the cryptobox codec announces its own features in every role.
  fixture enc;
  enc.join(std::make_shared<codec::cryptobox_codec>(codec::key_ring{}));
  for (const char* role : {"publisher", "subscriber", "caller", "callee"}) {
    const auto& features = enc.router->sent.front()[2]["roles"][role]["features"];
    CHECK(features["payload_transparency"] == true);
    CHECK(features["payload_encryption_cryptobox"] == true);
  }
}

TEST_CASE("a malformed frame aborts with protocol_violation and fails pending calls") {
  fixture f;
  f.join();
  std::exception_ptr call_error;
  f.s.async_call("com.example.p", nullptr, nullptr, {},
                 [&](std::exception_ptr e, call_result) { call_error = e; });
  f.settle();
  f.router->push_raw("[50, 1, {}, [1,2");
  f.settle();
  CHECK(f.disconnected);
  CHECK(code_of(f.ended) == errc::protocol_violation);
  REQUIRE(call_error);
  CHECK(code_of(call_error) == errc::protocol_violation);
  CHECK(f.last()[0] == 3);
  CHECK(f.last()[2] == "wamp.error.protocol_violation");
  CHECK(f.router->closed);
}

TEST_CASE("messages a router never sends are protocol violations") {
  for (const char* bytes : {R"([48, 1, {}, "com.example.p"])", R"([1, "realm1", {}])", R"([99, 1])",
                            R"("not an array")"}) {
    CAPTURE(bytes);
    fixture f;
    f.join();
    f.router->push_raw(bytes);
    f.settle();
    CHECK(f.disconnected);
    CHECK(f.last()[2] == "wamp.error.protocol_violation");
  }
}

TEST_CASE("callee: exceptions, dropped invocations and INTERRUPT become ERRORs") {
  fixture f;
  f.join();
  std::vector<responder> kept;
  f.register_procedure("com.example.p", [&](invocation inv, responder r) {
    const auto what = inv.args[0].get<std::string>();
    if (what == "throw") throw std::runtime_error("handler failed");
    if (what == "wamp") throw wamp_error("com.example.error", value::array({1}));
    if (what == "keep") kept.push_back(r);
  });

  auto invoke = [&f](wire::id request, const char* what) {
    f.router->push(value::array({68, request, 777, value::object(), value::array({what})}));
    f.settle();
  };
  invoke(1, "throw");
  CHECK(f.last() == value::array({8, 68, 1, value::object(), "wamp.error.runtime_error",
                                  value::array({"handler failed"})}));
  invoke(2, "wamp");
  CHECK(f.last() ==
        value::array({8, 68, 2, value::object(), "com.example.error", value::array({1})}));
  invoke(3, "drop");
  CHECK(f.last()[4] == "wamp.error.runtime_error");
  CHECK(f.last()[2] == 3);
  invoke(4, "keep");
  f.router->push(value::array({69, 4, value::object()}));
  f.settle();
  CHECK(f.last() == value::array({8, 68, 4, value::object(), "wamp.error.canceled"}));
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].interrupted());
  const auto count = f.router->sent.size();
  kept[0].yield();  // too late: dropped
  f.settle();
  CHECK(f.router->sent.size() == count);
  CHECK_FALSE(f.disconnected);

  f.router->push(value::array({68, 5, 999, value::object()}));
  f.settle();
  CHECK(f.last()[4] == "wamp.error.no_such_registration");
}

TEST_CASE("router GOODBYE is answered and ends the session") {
  fixture f;
  f.join();
  f.router->push(value::array({6, value::object(), "wamp.close.system_shutdown"}));
  f.settle();
  CHECK(f.last() == value::array({6, value::object(), "wamp.close.goodbye_and_out"}));
  CHECK(f.disconnected);
  CHECK_FALSE(f.s.is_joined());
}

TEST_CASE("the payload hook sees every payload with the right URI") {
  fixture f;
  auto codec = std::make_shared<recording_codec>();
  f.join(codec);
  using k = codec::payload_kind;

  f.s.async_publish("com.example.topic", value::array({1}), nullptr, {},
                    [](std::exception_ptr, std::optional<wire::id>) {});
  f.settle();
  CHECK(f.last()[2]["hooked"] == true);

  std::vector<event> events;
  subscribe_options prefix;
  prefix.match = match_policy::prefix;
  f.s.async_subscribe(
      "com.example", [&](const event& e) { events.push_back(e); }, prefix,
      [](std::exception_ptr, subscription) {});
  f.settle();
  f.router->push(value::array({33, f.last()[1], 55}));
  f.settle();
  f.router->push(value::array({36, 55, 1, {{"topic", "com.example.x"}}, make_binary({1, 2})}));
  f.settle();
  REQUIRE(events.size() == 1);
  CHECK(events[0].topic == "com.example.x");
  CHECK(events[0].encrypted);
  CHECK(events[0].args == value::array({"decoded"}));

  call_result result;
  std::exception_ptr call_error;
  f.s.async_call("com.example.proc", nullptr, nullptr, {},
                 [&](std::exception_ptr e, call_result r) {
                   call_error = e;
                   result = std::move(r);
                 });
  f.settle();
  f.router->push(value::array({50, f.last()[1], value::object(), make_binary({3})}));
  f.settle();
  CHECK_FALSE(call_error);
  CHECK(result.encrypted);

  f.s.async_call("com.example.proc", nullptr, nullptr, {},
                 [&](std::exception_ptr e, call_result) { call_error = e; });
  f.settle();
  f.router->push(
      value::array({8, 48, f.last()[1], value::object(), "com.example.err", make_binary({4})}));
  f.settle();
  CHECK(call_error);

  f.register_procedure("com.example.proc2", [](invocation inv, responder r) {
    if (inv.args.is_null()) return r.error("com.example.err2");
    r.yield();
  });
  f.router->push(
      value::array({68, 9, 777, {{"procedure", "com.example.proc2"}}, make_binary({5})}));
  f.settle();
  CHECK(f.last()[0] == 70);
  CHECK(f.last()[2]["hooked"] == true);

  const std::vector<std::pair<k, std::string>> expected = {
      {k::publish, "com.example.topic"},    {k::event, "com.example.x"},
      {k::call, "com.example.proc"},        {k::result, "com.example.proc"},
      {k::call, "com.example.proc"},        {k::result_error, "com.example.err"},
      {k::invocation, "com.example.proc2"}, {k::yield, "com.example.proc2"}};
  CHECK(codec->calls == expected);
}

TEST_CASE("one encrypted publication through overlapping subscriptions reaches each of them") {
  // Publisher and subscriber share one key, as in a ring made by `wampbox keygen --shared`.
  const auto pair = codec::generate_key_pair();
  codec::cryptobox_codec publisher(codec::key_ring(codec::key::from_private(pair.private_key)));
  fixture f;
  f.join(std::make_shared<codec::cryptobox_codec>(
      codec::key_ring(codec::key::from_private(pair.private_key))));
  std::vector<std::pair<wire::id, value>> delivered;  // (subscription, args)
  int refused = 0;
  f.s.on_event_error([&](const std::string&, std::exception_ptr) { ++refused; });
  subscribe_options prefix;
  prefix.match = match_policy::prefix;
  for (const auto& [uri, options, id] : {std::tuple{"com.example.t", subscribe_options{}, 55},
                                         std::tuple{"com.example", prefix, 56}}) {
    f.s.async_subscribe(
        uri, [&](const event& e) { delivered.emplace_back(e.subscription, e.args); }, options,
        [](std::exception_ptr, subscription) {});
    f.settle();
    f.router->push(value::array({33, f.last()[1], id}));
    f.settle();
  }
  // What the router sends for a publication: one EVENT per matching subscription.
  auto publish = [&](int n) {
    value options = value::object();
    wire::payload data{value::array({n}), nullptr, std::nullopt};
    codec::call_context context;
    publisher.encode(codec::payload_kind::publish, "com.example.t", options, data, context);
    options["topic"] = "com.example.t";
    return std::pair{options, data};
  };
  auto send = [&](wire::id subscription, wire::id publication,
                  const std::pair<value, wire::payload>& event) {
    f.router->push(
        wire::to_array(wire::event_message{subscription, publication, event.first, event.second}));
    f.settle();
  };
  const auto first = publish(1), second = publish(2);
  send(55, 900, first);
  send(56, 900, first);
  send(55, 901, second);
  send(56, 901, second);
  const std::vector<std::pair<wire::id, value>> expected = {{55, value::array({1})},
                                                            {56, value::array({1})},
                                                            {55, value::array({2})},
                                                            {56, value::array({2})}};
  CHECK(delivered == expected);
  CHECK(refused == 0);
  // The first publication again (another id, or the same after another one): a replay.
  send(55, 902, first);
  send(56, 900, first);
  CHECK(delivered.size() == 4);
  CHECK(refused == 2);
}

TEST_CASE("payload hook refusals: nothing leaks, nothing is dropped silently") {
  using k = codec::payload_kind;
  fixture f;
  auto codec = std::make_shared<recording_codec>();
  f.join(codec);

  codec->refuse = k::publish;
  std::exception_ptr publish_error;
  const auto before = f.router->sent.size();
  f.s.async_publish("com.example.t", value::array({"secret"}), nullptr, {},
                    [&](std::exception_ptr e, std::optional<wire::id>) { publish_error = e; });
  f.settle();
  CHECK(publish_error);
  CHECK(f.router->sent.size() == before);  // nothing went out

  codec->refuse = k::event;
  int delivered = 0;
  std::vector<std::string> reported;
  f.s.on_event_error(
      [&](const std::string& topic, std::exception_ptr) { reported.push_back(topic); });
  f.s.async_subscribe(
      "com.example.t", [&](const event&) { ++delivered; }, {},
      [](std::exception_ptr, subscription) {});
  f.settle();
  f.router->push(value::array({33, f.last()[1], 56}));
  f.settle();
  f.router->push(value::array({36, 56, 1, value::object(), make_binary({1})}));
  f.settle();
  CHECK(delivered == 0);
  CHECK(reported == std::vector<std::string>{"com.example.t"});

  codec->refuse = k::invocation;
  bool handler_ran = false;
  f.register_procedure("com.example.p", [&](invocation, responder r) {
    handler_ran = true;
    r.yield(call_result{value::array({"secret"})});
  });
  f.router->push(value::array({68, 7, 777, value::object(), make_binary({1})}));
  f.settle();
  CHECK_FALSE(handler_ran);
  CHECK(f.last()[0] == 8);
  CHECK(f.last()[2] == 7);
  CHECK(f.last()[4] == "wamp.error.encryption.decrypt_error");
  CHECK(f.last()[5][0].get<std::string>().starts_with("bad tag"));

  codec->refuse = k::yield;
  f.router->push(value::array({68, 8, 777, value::object(), make_binary({1})}));
  f.settle();
  CHECK(handler_ran);
  CHECK(f.last()[0] == 8);  // an ERROR, never a plaintext YIELD
  CHECK(f.last()[4] == "wamp.error.encryption.key_required");
}

TEST_CASE("a bare binary payload without enc_algo arrives as binary, with or without a codec") {
  auto lax = [] {
    codec::key_ring ring;
    ring.set_key("com.example.", codec::key::from_private(codec::generate_key_pair().private_key),
                 codec::key_policy::lax);
    return ring;
  };
  const std::vector<std::pair<const char*, std::shared_ptr<codec::payload_codec>>> codecs = {
      {"no codec", nullptr},
      {"cryptobox, unkeyed URI", std::make_shared<codec::cryptobox_codec>(codec::key_ring{})},
      {"cryptobox, lax URI", std::make_shared<codec::cryptobox_codec>(lax())},
  };
  for (const auto& [name, c] : codecs) {
    CAPTURE(name);
    fixture f;
    f.join(c);
    const value binary = value::array({make_binary({1, 2, 3})});

    std::vector<event> events;
    f.subscribe("com.example.t", [&](const event& e) { events.push_back(e); });
    f.router->push(value::array({36, 55, 1, value::object(), make_binary({1, 2, 3})}));
    f.settle();
    REQUIRE(events.size() == 1);
    CHECK(events[0].args == binary);
    CHECK_FALSE(events[0].encrypted);

    call_result result;
    f.s.async_call("com.example.p", nullptr, nullptr, {}, [&](std::exception_ptr e, call_result r) {
      CHECK_FALSE(e);
      result = std::move(r);
    });
    f.settle();
    f.router->push(value::array({50, f.last()[1], value::object(), make_binary({1, 2, 3})}));
    f.settle();
    CHECK(result.args == binary);

    value invoked;
    f.register_procedure("com.example.r", [&](invocation inv, responder r) {
      invoked = inv.args;
      r.yield();
    });
    f.router->push(value::array({68, 9, 777, value::object(), make_binary({1, 2, 3})}));
    f.settle();
    CHECK(invoked == binary);
  }
}

TEST_CASE("a handler may unsubscribe itself and others of the same topic during delivery") {
  fixture f;
  f.join();
  std::vector<std::string> calls;
  subscription first, third;
  bool unsubscribed = false;
  first = f.subscribe("com.example.t", [&](const event&) {
    calls.push_back("first");
    // Both leave the local handler list at once; the second handler keeps the subscription.
    f.s.async_unsubscribe(first, [](std::exception_ptr e) { CHECK_FALSE(e); });
    f.s.async_unsubscribe(third, [&](std::exception_ptr e) { unsubscribed = !e; });
  });
  const auto second =
      f.subscribe("com.example.t", [&](const event&) { calls.push_back("second"); });
  third = f.subscribe("com.example.t", [&](const event&) { calls.push_back("third"); });
  REQUIRE(first.slot < second.slot);
  REQUIRE(second.slot < third.slot);
  const auto sent = f.router->sent.size();
  auto deliver = [&](wire::id publication) {
    f.router->push(value::array({36, 55, publication, value::object(), value::array({1})}));
    f.settle();
  };
  deliver(1);
  // The third handler was unsubscribed before its turn: it is not called.
  CHECK(calls == std::vector<std::string>{"first", "second"});
  CHECK(unsubscribed);
  CHECK(f.router->sent.size() == sent);  // no UNSUBSCRIBE: the second handler remains
  deliver(2);
  CHECK(calls == std::vector<std::string>{"first", "second", "second"});

  // Unsubscribing the last handler sends UNSUBSCRIBE; later EVENTs reach nobody.
  f.s.async_unsubscribe(second, [](std::exception_ptr) {});
  f.settle();
  CHECK(f.last()[0] == 34);
  deliver(3);
  CHECK(calls.size() == 3);
  CHECK_FALSE(f.disconnected);
}

TEST_CASE("a handler may end the session during delivery; the handlers after it are not called") {
  fixture f;
  f.join();
  int later = 0;
  f.subscribe("com.example.t", [&](const event&) { f.held.reset(); });
  f.subscribe("com.example.t", [&](const event&) { ++later; });
  f.router->push(value::array({36, 55, 1, value::object(), value::array({1})}));
  f.settle();
  CHECK(later == 0);
  CHECK(f.disconnected);
  CHECK(f.router->closed);
}
