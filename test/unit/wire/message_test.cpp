// WAMP messages <-> arrays: exact layouts of all 24 types, payload forms, strict validation.
#include <set>
#include <wampbox/wire/message.hpp>
#include <wampbox/wire/serializer.hpp>

#include "wire_test_util.hpp"

using namespace wampbox;
using namespace wampbox::wire;
using wampbox::wire::test::protocol_errc;

namespace {

const value details = {{"x", 1}};
const bytes blob = {0, 1, 2, 0xff};

payload args_only() { return {.args = value::array({1, "two"})}; }
payload args_kwargs() { return {.args = value::array({1}), .kwargs = {{"k", "v"}}}; }
payload opaque() { return {.opaque = blob}; }

// One message of every type, with the array each must produce.
std::vector<std::pair<message, value>> samples() {
  const value b = make_binary(blob);
  return {
      {hello_message{"realm1", details}, value::array({1, "realm1", details})},
      {welcome_message{123, details}, value::array({2, 123, details})},
      {abort_message{details, "wamp.error.no_such_realm", {}},
       value::array({3, details, "wamp.error.no_such_realm"})},
      {abort_message{details, "r", args_kwargs()},
       value::array({3, details, "r", value::array({1}), {{"k", "v"}}})},
      {challenge_message{"wampcra", details}, value::array({4, "wampcra", details})},
      {authenticate_message{"sig", details}, value::array({5, "sig", details})},
      {goodbye_message{details, "wamp.close.normal"},
       value::array({6, details, "wamp.close.normal"})},
      {error_message{message_type::call, 7, details, "com.err", {}},
       value::array({8, 48, 7, details, "com.err"})},
      {error_message{message_type::invocation, 7, details, "com.err", opaque()},
       value::array({8, 68, 7, details, "com.err", b})},
      {publish_message{1, details, "com.topic", {}}, value::array({16, 1, details, "com.topic"})},
      {publish_message{1, details, "com.topic", args_only()},
       value::array({16, 1, details, "com.topic", value::array({1, "two"})})},
      {publish_message{1, details, "com.topic", opaque()},
       value::array({16, 1, details, "com.topic", b})},
      {published_message{1, 2}, value::array({17, 1, 2})},
      {subscribe_message{1, details, "com.topic"}, value::array({32, 1, details, "com.topic"})},
      {subscribed_message{1, 2}, value::array({33, 1, 2})},
      {unsubscribe_message{1, 2}, value::array({34, 1, 2})},
      {unsubscribed_message{1, std::nullopt}, value::array({35, 1})},
      {unsubscribed_message{0, details}, value::array({35, 0, details})},
      {event_message{1, 2, details, args_kwargs()},
       value::array({36, 1, 2, details, value::array({1}), {{"k", "v"}}})},
      {event_message{1, 2, details, opaque()}, value::array({36, 1, 2, details, b})},
      {call_message{1, details, "com.proc", opaque()},
       value::array({48, 1, details, "com.proc", b})},
      {call_message{1, details, "com.proc", {}}, value::array({48, 1, details, "com.proc"})},
      {cancel_message{1, details}, value::array({49, 1, details})},
      {result_message{1, details, args_only()},
       value::array({50, 1, details, value::array({1, "two"})})},
      {result_message{1, details, opaque()}, value::array({50, 1, details, b})},
      {register_message{1, details, "com.proc"}, value::array({64, 1, details, "com.proc"})},
      {registered_message{1, 2}, value::array({65, 1, 2})},
      {unregister_message{1, 2}, value::array({66, 1, 2})},
      {unregistered_message{1, std::nullopt}, value::array({67, 1})},
      {unregistered_message{0, details}, value::array({67, 0, details})},
      {invocation_message{1, 2, details, opaque()}, value::array({68, 1, 2, details, b})},
      {interrupt_message{1, details}, value::array({69, 1, details})},
      {yield_message{1, details, opaque()}, value::array({70, 1, details, b})},
      {yield_message{(id{1} << 53), details, args_kwargs()},
       value::array({70, id{1} << 53, details, value::array({1}), {{"k", "v"}}})},
  };
}

}  // namespace

TEST_CASE("message: array layouts and round trips for every type and serializer") {
  std::set<message_type> covered;
  for (const auto& [m, array] : samples()) {
    const message_type t = type_of(m);
    CAPTURE(std::string(message_name(t)));
    covered.insert(t);
    CHECK(array[0] == static_cast<int>(t));
    CHECK(to_array(m) == array);
    CHECK(from_array(value(array)) == m);
    for (auto s : {serializer_kind::json, serializer_kind::msgpack, serializer_kind::cbor})
      CHECK(parse_message(s, serialize_message(s, m)) == m);
  }
  CHECK(covered.size() == 24);
}

TEST_CASE("message: kwargs without args are sent with an empty Arguments list") {
  const message m = publish_message{1, details, "t", {.kwargs = {{"k", "v"}}}};
  CHECK(to_array(m) == value::array({16, 1, details, "t", value::array(), {{"k", "v"}}}));
  const auto parsed = std::get<publish_message>(from_array(to_array(m)));
  CHECK(parsed.data.args == value::array());
  CHECK(parsed.data.kwargs == value{{"k", "v"}});
}

TEST_CASE("message: names") {
  CHECK(std::string(message_name(message_type::publish)) == "PUBLISH");
  CHECK(std::string(message_name(message_type::register_)) == "REGISTER");
  CHECK(std::string(message_name(static_cast<message_type>(99))) == "UNKNOWN");
}

TEST_CASE("message: to_array(&&) moves the opaque payload without copying") {
  bytes big(16384, 0xab);
  const auto* data = big.data();
  message m = event_message{1, 2, details, {.opaque = std::move(big)}};
  const value array = to_array(std::move(m));
  CHECK(array[4].get_binary().data() == data);
  // ...and from_array moves it back out of the array.
  const message back = from_array(value(array));
  value moved = array;
  const auto* in_array = moved[4].get_binary().data();
  const message parsed = from_array(std::move(moved));
  CHECK(std::get<event_message>(parsed).data.opaque->data() == in_array);
  CHECK(back == parsed);
}

TEST_CASE("message: invalid arrays name message and field") {
  const value b = make_binary(blob);
  struct bad_case {
    value array;
    errc code;
    const char* text;
  };
  const bad_case cases[] = {
      {value::object(), errc::invalid_message, "must be an array"},
      {"x", errc::invalid_message, "must be an array"},
      {value::array(), errc::invalid_message, "must not be empty"},
      {value::array({"16", 1}), errc::invalid_message, "code must be an integer"},
      {value::array({16.0, 1}), errc::invalid_message, "code must be an integer"},
      {value::array({-16, 1}), errc::unknown_message_type, "unknown"},
      {value::array({99, 1}), errc::unknown_message_type, "unknown"},
      {value::array({256 + 16, 1}), errc::unknown_message_type, "unknown"},
      {value::array({337, 1}), errc::unknown_message_type, "unknown"},
      {value::array({36, 1, 2, "details", value::array()}), errc::invalid_message,
       "EVENT: Details must be a dict"},
      {value::array({36, 1, 2}), errc::invalid_message,
       "EVENT: invalid message length 3 (expected 4 to 6)"},
      {value::array({36, 1, 2, details, value::array(), details, 1}), errc::invalid_message,
       "EVENT: invalid message length 7"},
      {value::array({36, 0, 2, details}), errc::invalid_message,
       "EVENT: Subscription must be an integer"},
      {value::array({36, 1, -2, details}), errc::invalid_message, "EVENT: Publication must be"},
      {value::array({36, 1, 2.5, details}), errc::invalid_message, "EVENT: Publication must be"},
      {value::array({36, (id{1} << 53) + 1, 2, details}), errc::invalid_message,
       "EVENT: Subscription must be"},
      {value::array({36, 1, 2, details, details}), errc::invalid_message,
       "EVENT: Arguments must be a list or a binary payload"},
      {value::array({36, 1, 2, details, value::array(), value::array()}), errc::invalid_message,
       "EVENT: ArgumentsKw must be a dict"},
      {value::array({36, 1, 2, details, b, details}), errc::invalid_message,
       "EVENT: a binary payload must be the last element"},
      {value::array({36, 1, 2, details, "text payload"}), errc::invalid_message,
       "EVENT: Arguments must be"},
      {value::array({16, 1, details, 5}), errc::invalid_message, "PUBLISH: Topic must be a string"},
      {value::array({16, 1, nullptr, "t"}), errc::invalid_message,
       "PUBLISH: Options must be a dict"},
      {value::array({16, 1, {{"acknowledge", 1}}, "t"}), errc::invalid_message,
       "PUBLISH: Options.acknowledge must be a bool"},
      {value::array({16, 1, {{"enc_algo", "rot13"}}, "t", b}), errc::invalid_message,
       "PUBLISH: Options.enc_algo"},
      {value::array({48, 1, {{"enc_serializer", 3}}, "p", b}), errc::invalid_message,
       "CALL: Options.enc_serializer"},
      {value::array({32, 1, {{"match", "regex"}}, "t"}), errc::invalid_message,
       "SUBSCRIBE: Options.match"},
      {value::array({68, 1, 2, {{"caller", "bob"}}}), errc::invalid_message,
       "INVOCATION: Details.caller must be an id"},
      {value::array({50, 1, {{"progress", "yes"}}}), errc::invalid_message,
       "RESULT: Details.progress must be a bool"},
      {value::array({3, details, "r", b}), errc::invalid_message,
       "ABORT: Arguments must be a list"},
      {value::array({3, "r", details}), errc::invalid_message, "ABORT: Details must be a dict"},
      {value::array({1, 5, details}), errc::invalid_message, "HELLO: Realm must be a string"},
      {value::array({2, 0, details}), errc::invalid_message, "WELCOME: Session must be"},
      {value::array({8, 99, 1, details, "e"}), errc::invalid_message,
       "ERROR: Request.Type is not a known message type"},
      {value::array({8, 48, 1, details}), errc::invalid_message, "ERROR: invalid message length 4"},
      {value::array({35, 0}), errc::invalid_message,
       "UNSUBSCRIBED: Request must be an integer in [1, 2^53]"},
      {value::array({35, 1, "d"}), errc::invalid_message, "UNSUBSCRIBED: Details must be a dict"},
      {value::array({67, 1, details, 1}), errc::invalid_message,
       "UNREGISTERED: invalid message length 4"},
      {value::array({70, 1}), errc::invalid_message, "YIELD: invalid message length 2"},
      {value::array({17, 1, true}), errc::invalid_message, "PUBLISHED: Publication must be"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.array.dump());
    try {
      (void)from_array(value(c.array));
      FAIL_CHECK("accepted");
    } catch (const protocol_error& e) {
      CHECK(e.code() == make_error_code(c.code));
      CHECK_MESSAGE(std::string(e.what()).find(c.text) != std::string::npos, e.what());
    }
  }
}

TEST_CASE("message: to_array refuses messages that cannot be valid on the wire") {
  CHECK(protocol_errc([] {
          to_array(publish_message{1, {}, "t", {.args = value::array(), .opaque = blob}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(publish_message{1, {}, "t", {.args = "not a list"}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(publish_message{1, {}, "t", {.kwargs = value::array()}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(publish_message{1, nullptr, "t", {}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] { to_array(publish_message{0, {}, "t", {}}); }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(published_message{1, (id{1} << 53) + 1});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(abort_message{{}, "r", {.opaque = blob}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(error_message{static_cast<message_type>(99), 1, {}, "e", {}});
        }) == errc::invalid_message);
  CHECK(protocol_errc([] {
          to_array(unsubscribed_message{0, std::nullopt});
        }) == errc::invalid_message);
}
