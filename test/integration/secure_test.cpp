// Integration tests of secure mode (x_wampbox_v1) through a real router (the project's test
// router or Crossbar.io), over every transport URL and serializer: pub/sub and RPC with the
// authenticated sender delivered, a keyless subscriber that sees only the opaque payload (which
// the router forwarded unchanged: a keyed codec still opens it), and a forged event refused.
#include "harness.hpp"

#include "../unit/codec/secure_test_util.hpp"

#include <wampbox/codec/secure_codec.hpp>

#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::test;

namespace {

/// The secure-mode group of the unit tests (publisher, subscriber listed as a caller only,
/// caller, callee) under a prefix of its own; codecs on the real clock.
struct group : codec::test::secure_group {
  explicit group(std::string p) { prefix = std::move(p); }
  std::shared_ptr<secure_codec> codec(const std::string& me) const {
    return std::make_shared<secure_codec>(ring(me));
  }
};

}  // namespace

TEST_CASE("secure pub/sub: the sender is authenticated, keyless peers see an opaque payload") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const group g(unique_uri("com.example.secure"));
    const std::string topic = g.prefix + ".telemetry";
    session pub(ex), sub(ex), keyless(ex), forger(ex);
    pub.set_payload_codec(g.codec("publisher"));
    sub.set_payload_codec(g.codec("subscriber"));
    forger.set_payload_codec(g.codec("subscriber"));  // holds the key, is no publisher
    for (session* s : {&pub, &sub, &keyless, &forger}) co_await open(*s, ep);

    std::vector<event> got, opaque;
    std::vector<boost::system::error_code> refused;
    latch delivered(ex), seen_opaque(ex), rejected(ex);
    sub.on_event_error([&](const std::string&, std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const wampbox::error& error) {
        refused.push_back(error.code());
      }
      rejected.notify();
    });
    co_await sub.async_subscribe(
        topic,
        [&](const event& e) {
          got.push_back(e);
          delivered.notify();
        },
        {}, use_awaitable);
    co_await keyless.async_subscribe(
        topic,
        [&](const event& e) {
          opaque.push_back(e);
          if (opaque.size() == 2) seen_opaque.notify();  // the forged event, then the real one
        },
        {}, use_awaitable);

    publish_options ack;
    ack.acknowledge = true;
    co_await forger.async_publish(topic, J(R"(["forged"])"), nullptr, ack, use_awaitable);
    co_await rejected.wait();
    co_await pub.async_publish(topic, J(R"([21.5,"C"])"), J(R"({"k":"v"})"), ack, use_awaitable);
    co_await delivered.wait();
    co_await seen_opaque.wait();

    CHECK(refused == std::vector{make_error_code(errc::sender_not_allowed)});
    REQUIRE(got.size() == 1);  // the forged event never reached the handler
    CHECK(got[0].args == J(R"([21.5,"C"])"));
    CHECK(got[0].kwargs == J(R"({"k":"v"})"));
    CHECK(got[0].encrypted);
    REQUIRE(got[0].sender);
    CHECK(got[0].sender->name == "publisher");
    CHECK(got[0].sender->public_key == g.identity("publisher").public_key_base64());

    // the keyless subscriber: the forged event and the real one, each one opaque binary
    REQUIRE(opaque.size() == 2);
    const event& last = opaque.back();
    CHECK(last.details["enc_algo"] == "x_wampbox_v1");
    CHECK(last.details["enc_serializer"] == "msgpack");
    REQUIRE(last.args.is_array());
    REQUIRE(last.args.size() == 1);
    REQUIRE(last.args[0].is_binary());
    CHECK(last.kwargs.is_null());
    CHECK_FALSE(last.sender);
    // forwarded unchanged: a keyed codec (a fresh one, as a late joiner) opens what it got
    secure_codec late(g.ring("subscriber"));
    const auto& binary = last.args[0].get_binary();
    wire::payload data{nullptr, nullptr, bytes(binary.begin(), binary.end())};
    call_context ctx;
    late.decode(payload_kind::event, topic, last.details, data, ctx);
    CHECK(data.args == J(R"([21.5,"C"])"));
    CHECK(ctx.sender->name == "publisher");
    for (session* s : {&pub, &sub, &keyless, &forger})
      co_await s->async_leave("wamp.close.normal", use_awaitable);
  });
}

TEST_CASE("secure RPC: results, progress and errors, both ends authenticated") {
  each_endpoint([](endpoint ep) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    const group g(unique_uri("com.example.secure"));
    session callee(ex), caller(ex), publisher(ex);
    callee.set_payload_codec(g.codec("callee"));
    caller.set_payload_codec(g.codec("caller"));
    publisher.set_payload_codec(g.codec("publisher"));  // may publish, not call
    for (session* s : {&callee, &caller, &publisher}) co_await open(*s, ep);

    std::vector<std::string> callers;
    co_await callee.async_register(
        g.prefix + ".count",
        [&](invocation inv, responder r) {
          callers.push_back(inv.sender ? inv.sender->name : "");
          for (int i = 1; i <= 2; ++i) {
            call_result step;
            step.args = value::array({i});
            r.progress(step);
          }
          call_result done;
          done.args = inv.args;
          r.yield(done);
        },
        {}, use_awaitable);
    co_await callee.async_register(
        g.prefix + ".fail",
        [](const invocation&) -> call_result {
          throw wamp_error("com.example.error.invalid", J(R"(["bad"])"), J(R"({"code":7})"));
        },
        {}, use_awaitable);

    std::vector<value> progress;
    call_options with_progress;
    with_progress.on_progress = [&](const call_result& r) {
      CHECK((r.sender && r.sender->name == "callee"));
      progress.push_back(r.args);
    };
    auto result = co_await caller.async_call(g.prefix + ".count", J(R"(["x"])"), nullptr,
                                             with_progress, use_awaitable);
    CHECK(result.args == J(R"(["x"])"));
    CHECK(progress == std::vector<value>{J("[1]"), J("[2]")});
    REQUIRE(result.sender);
    CHECK(result.sender->name == "callee");
    CHECK(callers == std::vector<std::string>{"caller"});

    try {
      co_await caller.async_call(g.prefix + ".fail", nullptr, nullptr, {}, use_awaitable);
      FAIL("call succeeded");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "com.example.error.invalid");
      CHECK(e.args() == J(R"(["bad"])"));
      CHECK(e.kwargs() == J(R"({"code":7})"));
    }
    try {  // the router's own error, in plaintext, still reaches the caller
      co_await caller.async_call(g.prefix + ".missing", nullptr, nullptr, {}, use_awaitable);
      FAIL("call succeeded");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "wamp.error.no_such_procedure");
    }
    try {  // a listed publisher is no caller: the callee refuses the INVOCATION
      co_await publisher.async_call(g.prefix + ".count", J("[1]"), nullptr, {}, use_awaitable);
      FAIL("call succeeded");
    } catch (const wamp_error& e) {
      CHECK(e.uri() == "wamp.error.encryption.sender_not_allowed");
    }
    CHECK(callers.size() == 1);
    for (session* s : {&callee, &caller, &publisher})
      co_await s->async_leave("wamp.close.normal", use_awaitable);
  });
}
