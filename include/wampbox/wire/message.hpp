// wampbox — every WAMP message of the Basic and Advanced Profile as a typed value.
//
// Array layouts follow the WAMP spec. Arguments and ArgumentsKw are optional; in
// payload-transparency form (Autobahn/Crossbar.io end-to-end encryption) one bare binary
// takes the place of Arguments and ArgumentsKw is absent.
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/wire/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace wampbox::wire {

/// WAMP message codes.
enum class message_type : std::uint8_t {
  hello = 1,
  welcome = 2,
  abort = 3,
  challenge = 4,
  authenticate = 5,
  goodbye = 6,
  error = 8,
  publish = 16,
  published = 17,
  subscribe = 32,
  subscribed = 33,
  unsubscribe = 34,
  unsubscribed = 35,
  event = 36,
  call = 48,
  cancel = 49,
  result = 50,
  register_ = 64,
  registered = 65,
  unregister = 66,
  unregistered = 67,
  invocation = 68,
  interrupt = 69,
  yield = 70,
};

/// Upper-case WAMP name of a message type ("PUBLISH"), or "UNKNOWN".
WAMPBOX_API const char* message_name(message_type t) noexcept;

/// WAMP ids (session, request, subscription, ...) are integers in [1, 2^53].
using id = std::uint64_t;

/// The application payload of PUBLISH/EVENT/CALL/INVOCATION/YIELD/RESULT/ERROR/ABORT.
struct payload {
  value args = nullptr;    ///< positional arguments: an array, or null when absent
  value kwargs = nullptr;  ///< keyword arguments: an object, or null when absent
  std::optional<bytes> opaque =
      std::nullopt;  ///< payload transparency: the bare binary replacing both

  /// True when neither arguments nor an opaque payload are present.
  bool empty() const noexcept { return args.is_null() && kwargs.is_null() && !opaque; }
  friend bool operator==(const payload&, const payload&) = default;
};

struct hello_message {
  std::string realm;
  value details = value::object();
  friend bool operator==(const hello_message&, const hello_message&) = default;
};
struct welcome_message {
  id session = 0;
  value details = value::object();
  friend bool operator==(const welcome_message&, const welcome_message&) = default;
};
struct abort_message {
  value details = value::object();
  std::string reason;
  payload data;
  friend bool operator==(const abort_message&, const abort_message&) = default;
};
struct challenge_message {
  std::string auth_method;
  value extra = value::object();
  friend bool operator==(const challenge_message&, const challenge_message&) = default;
};
struct authenticate_message {
  std::string signature;
  value extra = value::object();
  friend bool operator==(const authenticate_message&, const authenticate_message&) = default;
};
struct goodbye_message {
  value details = value::object();
  std::string reason;
  friend bool operator==(const goodbye_message&, const goodbye_message&) = default;
};
/// ERROR: `request_type` is the code of the message that failed (CALL, INVOCATION, SUBSCRIBE, ...).
struct error_message {
  message_type request_type = message_type::call;
  id request = 0;
  value details = value::object();
  std::string error;
  payload data;
  friend bool operator==(const error_message&, const error_message&) = default;
};
struct publish_message {
  id request = 0;
  value options = value::object();
  std::string topic;
  payload data;
  friend bool operator==(const publish_message&, const publish_message&) = default;
};
struct published_message {
  id request = 0;
  id publication = 0;
  friend bool operator==(const published_message&, const published_message&) = default;
};
struct subscribe_message {
  id request = 0;
  value options = value::object();
  std::string topic;
  friend bool operator==(const subscribe_message&, const subscribe_message&) = default;
};
struct subscribed_message {
  id request = 0;
  id subscription = 0;
  friend bool operator==(const subscribed_message&, const subscribed_message&) = default;
};
struct unsubscribe_message {
  id request = 0;
  id subscription = 0;
  friend bool operator==(const unsubscribe_message&, const unsubscribe_message&) = default;
};
/// UNSUBSCRIBED: `details` is present only in the router-initiated (revocation) form.
struct unsubscribed_message {
  id request = 0;
  std::optional<value> details;
  friend bool operator==(const unsubscribed_message&, const unsubscribed_message&) = default;
};
struct event_message {
  id subscription = 0;
  id publication = 0;
  value details = value::object();
  payload data;
  friend bool operator==(const event_message&, const event_message&) = default;
};
struct call_message {
  id request = 0;
  value options = value::object();
  std::string procedure;
  payload data;
  friend bool operator==(const call_message&, const call_message&) = default;
};
struct cancel_message {
  id request = 0;
  value options = value::object();
  friend bool operator==(const cancel_message&, const cancel_message&) = default;
};
struct result_message {
  id request = 0;
  value details = value::object();
  payload data;
  friend bool operator==(const result_message&, const result_message&) = default;
};
struct register_message {
  id request = 0;
  value options = value::object();
  std::string procedure;
  friend bool operator==(const register_message&, const register_message&) = default;
};
struct registered_message {
  id request = 0;
  id registration = 0;
  friend bool operator==(const registered_message&, const registered_message&) = default;
};
struct unregister_message {
  id request = 0;
  id registration = 0;
  friend bool operator==(const unregister_message&, const unregister_message&) = default;
};
/// UNREGISTERED: `details` is present only in the router-initiated (revocation) form.
struct unregistered_message {
  id request = 0;
  std::optional<value> details;
  friend bool operator==(const unregistered_message&, const unregistered_message&) = default;
};
struct invocation_message {
  id request = 0;
  id registration = 0;
  value details = value::object();
  payload data;
  friend bool operator==(const invocation_message&, const invocation_message&) = default;
};
struct interrupt_message {
  id request = 0;
  value options = value::object();
  friend bool operator==(const interrupt_message&, const interrupt_message&) = default;
};
struct yield_message {
  id request = 0;
  value options = value::object();
  payload data;
  friend bool operator==(const yield_message&, const yield_message&) = default;
};

/// Any WAMP message.
using message =
    std::variant<hello_message, welcome_message, abort_message, challenge_message,
                 authenticate_message, goodbye_message, error_message, publish_message,
                 published_message, subscribe_message, subscribed_message, unsubscribe_message,
                 unsubscribed_message, event_message, call_message, cancel_message, result_message,
                 register_message, registered_message, unregister_message, unregistered_message,
                 invocation_message, interrupt_message, yield_message>;

/// The message code of a message.
WAMPBOX_API message_type type_of(const message& m) noexcept;

/// Builds the WAMP array form `[code, ...]` of a message.
WAMPBOX_API value to_array(const message& m);
/// Builds the array form, moving payload and options out of `m` (no copy of large payloads).
WAMPBOX_API value to_array(message&& m);

/// Parses a WAMP array into a typed message. Throws `protocol_error` (errc::invalid_message or
/// errc::unknown_message_type) naming the field that is wrong.
WAMPBOX_API message from_array(value&& array);

}  // namespace wampbox::wire
