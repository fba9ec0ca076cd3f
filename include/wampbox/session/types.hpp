// wampbox — value types for session options and results.
#pragma once

#include <wampbox/auth/authenticator.hpp>
#include <wampbox/codec/payload_sender.hpp>
#include <wampbox/wire/message.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wampbox {

// The types passed to asynchronous operations declare their default constructor: GCC 12
// (Debian 12) corrupts brace-initialised *aggregate* temporaries inside a `co_await`
// expression (it relocates them bitwise, breaking e.g. std::string's short-string buffer).
// Declaring the constructor makes them non-aggregates, so `co_await s.async_join({}, ...)`
// and `co_await s.async_call(p, a, k, {}, ...)` are safe.

/// What the router said when the session joined.
struct welcome_info {
  wire::id session_id = 0;  ///< the router-assigned session id
  std::string realm;        ///< the realm joined
  std::string authid;       ///< authentication id assigned by the router (may be empty)
  std::string authrole;     ///< authentication role assigned by the router (may be empty)
  value details;            ///< the full WELCOME.Details
};

/// A CHALLENGE received while joining (see <wampbox/auth/authenticator.hpp>).
using challenge = auth::challenge;

/// Options for joining a realm.
struct join_options {
  join_options() = default;
  std::string realm = "realm1";  ///< realm to join
  /// Announced authid; empty: the authenticator's (if any), else none.
  std::string authid;
  /// Requested authrole (HELLO.Details.authrole, as Autobahn sends it; empty: none). Routers
  /// with static principals (Crossbar.io) assign the principal's role whatever is asked.
  std::string authrole;
  /// Further HELLO.Details.authextra entries (object or null), merged with the
  /// authenticator's own (a key given by both with different values refuses the join).
  value authextra = nullptr;
  /// How to authenticate, e.g. `auth::ticket(...)` (<wampbox/auth/methods.hpp>); none:
  /// anonymous. A CHALLENGE for another method aborts the join with errc::authentication_failed.
  std::optional<auth::authenticator> authenticator;
};

/// Options of PUBLISH.
struct publish_options {
  publish_options() = default;
  bool acknowledge = false;  ///< ask the router for PUBLISHED (the operation then waits for it)
  bool exclude_me = true;    ///< do not deliver to this session's own subscriptions
  bool disclose_me = false;  ///< ask the router to disclose the publisher to subscribers
  value extra = nullptr;     ///< further PUBLISH.Options (object or null), merged as given
};

/// Topic or procedure matching policy.
enum class match_policy { exact, prefix, wildcard };

/// Options of SUBSCRIBE.
struct subscribe_options {
  subscribe_options() = default;
  match_policy match = match_policy::exact;  ///< how the topic is matched
  value extra = nullptr;                     ///< further SUBSCRIBE.Options, merged as given
};

/// Options of REGISTER.
struct register_options {
  register_options() = default;
  match_policy match = match_policy::exact;  ///< how the procedure is matched
  value extra = nullptr;                     ///< further REGISTER.Options, merged as given
};

/// Arguments of a call or a call's answer.
struct call_result {
  value args = nullptr;             ///< positional results/arguments (array) or null
  value kwargs = nullptr;           ///< keyword results/arguments (object) or null
  value details = value::object();  ///< RESULT.Details (incoming) or YIELD.Options (outgoing)
  bool encrypted = false;           ///< the payload travelled end-to-end encrypted (incoming only)
  /// The authenticated sender (the callee), in secure mode only (incoming only).
  std::optional<codec::payload_sender> sender = std::nullopt;
};

/// What CANCEL asks of the router when a call is canceled (WAMP call canceling modes).
enum class cancel_mode {
  kill,        ///< interrupt the callee and wait for it (the router answers after the callee)
  killnowait,  ///< interrupt the callee, answer the caller at once
  skip,        ///< do not interrupt the callee, answer the caller at once
};

/// Options of CALL.
struct call_options {
  call_options() = default;
  /// Sent in CANCEL when the call's operation is canceled; the operation itself always
  /// completes at once with operation_aborted.
  wampbox::cancel_mode cancel_mode = wampbox::cancel_mode::kill;
  /// Router-side timeout (CALL.Options.timeout); zero means none.
  std::chrono::milliseconds timeout{0};
  bool disclose_me = false;  ///< ask the router to disclose the caller to the callee
  /// Receives progressive results (sets CALL.Options.receive_progress).
  std::function<void(const call_result&)> on_progress;
  value extra = nullptr;  ///< further CALL.Options, merged as given
};

/// An EVENT delivered to a subscription handler.
struct event {
  std::string topic;          ///< the topic (details.topic for pattern subscriptions)
  wire::id subscription = 0;  ///< router's subscription id
  wire::id publication = 0;   ///< router's publication id
  value args = nullptr;       ///< positional arguments (array) or null
  value kwargs = nullptr;     ///< keyword arguments (object) or null
  value details;              ///< EVENT.Details (publisher, topic, enc_* ...)
  bool encrypted = false;     ///< the payload travelled end-to-end encrypted
  /// The authenticated publisher, in secure mode only (the router's `publisher` detail is not).
  std::optional<codec::payload_sender> sender = std::nullopt;
};

/// An INVOCATION delivered to a callee.
struct invocation {
  std::string procedure;      ///< the called procedure (details.procedure for patterns)
  wire::id registration = 0;  ///< router's registration id
  wire::id request = 0;       ///< the INVOCATION request id
  value args = nullptr;       ///< positional arguments (array) or null
  value kwargs = nullptr;     ///< keyword arguments (object) or null
  value details;              ///< INVOCATION.Details (caller, receive_progress, enc_* ...)
  bool encrypted = false;     ///< the payload travelled end-to-end encrypted
  /// The authenticated caller, in secure mode only (the router's `caller` detail is not).
  std::optional<codec::payload_sender> sender = std::nullopt;
};

/// Handle of an active subscription (pass it to async_unsubscribe).
struct subscription {
  subscription() = default;
  /// A handle for a router subscription id and a local handler slot.
  subscription(wire::id id_, std::uint64_t slot_, std::string topic_)
      : id(id_), slot(slot_), topic(std::move(topic_)) {}
  wire::id id = 0;         ///< router's subscription id
  std::uint64_t slot = 0;  ///< this handler's local slot (several handlers may share one id)
  std::string topic;       ///< the subscribed topic or pattern
};

/// Handle of an active registration (pass it to async_unregister).
struct registration {
  registration() = default;
  /// A handle for a router registration id.
  registration(wire::id id_, std::string procedure_) : id(id_), procedure(std::move(procedure_)) {}
  wire::id id = 0;        ///< router's registration id
  std::string procedure;  ///< the registered procedure or pattern
};

/// Reports why an EVENT could not be delivered (e.g. decryption failed); the handler gets the
/// subscription's topic and the error. Events are never dropped silently.
using event_error_handler = std::function<void(const std::string& topic, std::exception_ptr)>;

}  // namespace wampbox
