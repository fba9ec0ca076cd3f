// wampbox — session internals. One class, its parts defined one file per role:
//   peer.cpp       state machine, transport, dispatch, HELLO/WELCOME/ABORT/GOODBYE,
//                  cancellation and deadlines
//   authentication.cpp   HELLO's authentication details, CHALLENGE/AUTHENTICATE, WELCOME checks
//   requests.cpp   the one table of requests waiting for the router
//   publisher.cpp, subscriber.cpp, caller.cpp, callee.cpp   the four roles
//   codec_hook.cpp the payload hook (identity codec without one)
//   message_fields.cpp  Details/Options fields and error values
#pragma once

#include "codec_hook.hpp"
#include "requests.hpp"

#include <wampbox/session/session.hpp>
#include <wampbox/wire/serializer.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

namespace wampbox::detail {

/// One INVOCATION between its arrival and its answer (shared by all copies of a responder,
/// which may live on other threads: the flags are atomic, everything else is read-only or
/// touched on the session's executor only).
struct pending_invocation {
  std::weak_ptr<session_impl> session;
  boost::asio::any_io_executor executor;  ///< the session's: answers are handed to it
  wire::id request = 0;
  std::string procedure;
  codec::call_context context;
  bool receive_progress = false;
  std::atomic<bool> answered{false};     ///< a final answer was handed over
  std::atomic<bool> interrupted{false};  ///< INTERRUPT arrived or the session ended
  /// The callee's handler for an interruption (executor only); run once by interrupt().
  std::function<void()> on_interrupt;
  /// Marks the invocation interrupted and runs the callee's handler, if any (executor only).
  void interrupt();
  /// Answers an invocation nobody answered, so the caller never waits forever.
  ~pending_invocation();
};

/// Ends a subscription handler (UNSUBSCRIBE when it was the last) without waiting.
void undo(session_impl& s, const subscription& sub) noexcept;
/// Ends a registration (UNREGISTER) without waiting.
void undo(session_impl& s, const registration& reg) noexcept;

/// The wire name of a match policy.
const char* match_name(match_policy m);
/// SUBSCRIBE/REGISTER options: the user's extra options plus the match policy.
value match_options(match_policy match, const value& extra);

/// Builds the exception for an error code with a message for users.
std::exception_ptr make_error(boost::system::error_code ec, const std::string& what);
std::exception_ptr make_error(errc code, const std::string& what);

class session_impl : public std::enable_shared_from_this<session_impl> {
 public:
  using executor_type = boost::asio::any_io_executor;
  using done_handler = shared_completion<void(std::exception_ptr)>;
  template <typename T>
  using result_handler = shared_completion<void(std::exception_ptr, T)>;

  explicit session_impl(executor_type executor)
      : executor_(std::move(executor)), codec_(identity_codec()) {}

  executor_type executor_;
  std::shared_ptr<codec::payload_codec> codec_;
  event_error_handler event_error_;
  disconnect_handler disconnect_;
  welcome_info welcome_;
  std::chrono::milliseconds timeout_{0};

  enum class state { closed, connecting, connected, joining, joined, leaving };
  state state_ = state::closed;

  // peer.cpp
  operation_ref connect(transport::transport_options options, done_handler cb);
  /// Starts using a connected transport (reading begins at once).
  void attach(std::shared_ptr<transport::transport> connected);
  operation_ref join(join_options options, result_handler<welcome_info> cb);
  operation_ref leave(std::string reason, done_handler cb);
  /// Cancels a pending operation: it completes with `why` (operation_aborted, or timed_out after
  /// the deadline `limit`) and the protocol is cleaned up. Nothing happens when it already
  /// completed.
  void cancel(operation_ref op, boost::system::error_code why,
              std::chrono::milliseconds limit = {});
  /// The session object let go (destroyed or assigned over): ends with session_closed, drops
  /// the application's handlers, and refuses every operation from now on.
  void release();
  /// Closes the transport and fails everything pending with `reason` (nullptr: clean end).
  void end(std::exception_ptr reason);

  // publisher.cpp
  operation_ref publish(std::string topic, value args, value kwargs, publish_options options,
                        result_handler<std::optional<wire::id>> cb);
  // subscriber.cpp
  operation_ref subscribe(std::string topic, std::function<void(const event&)> handler,
                          subscribe_options options, result_handler<subscription> cb);
  operation_ref unsubscribe(subscription sub, done_handler cb);
  // caller.cpp
  operation_ref call(std::string procedure, value args, value kwargs, call_options options,
                     result_handler<call_result> cb);
  // callee.cpp
  operation_ref enroll(std::string procedure, invocation_handler handler, register_options options,
                       result_handler<registration> cb);
  operation_ref unregister(registration reg, done_handler cb);
  /// Sends YIELD (final or progressive) for an invocation, through the payload hook.
  void answer_yield(pending_invocation& inv, call_result result, bool progress);
  /// Sends ERROR for an invocation, through the payload hook.
  void answer_error(pending_invocation& inv, std::string uri, value args, value kwargs);

  /// Fails the pending request `id` (e.g. its answer was refused by the payload hook).
  void fail_request(wire::id id, std::exception_ptr e);
  /// Sends without waiting for the outcome (a lost transport ends the session anyway).
  void send_quietly(wire::message m);
  wire::id next_request() noexcept { return next_request_++; }

 private:
  struct subscription_state {
    std::string topic;
    /// Shared: delivery holds the handler it runs, which may unsubscribe itself meanwhile.
    std::map<std::uint64_t, std::shared_ptr<const std::function<void(const event&)>>> handlers;
  };
  struct registration_state {
    std::string procedure;
    invocation_handler handler;
  };

  /// Null when role operations may run, else why not (not joined, or the session is gone).
  std::exception_ptr refusal() const;
  /// SUBSCRIBE/REGISTER options; nullopt after failing `cb` (not joined, bad extra options).
  template <typename T>
  std::optional<value> enrolment_options(match_policy match, const value& extra,
                                         const result_handler<T>& cb) {
    try {
      if (auto refused = refusal()) std::rethrow_exception(refused);
      return match_options(match, extra);
    } catch (...) {
      cb(std::current_exception(), T{});
      return std::nullopt;
    }
  }
  /// A timer that cancels `op` with timed_out after `limit` (null when `limit` is zero).
  std::unique_ptr<boost::asio::steady_timer> deadline_for(operation_ref op,
                                                          std::chrono::milliseconds limit);
  /// Serializes and sends; `written(std::exception_ptr)` gets nullptr or the failure. A template:
  /// the transport's callback holds `written` itself, with no callback around it.
  template <typename Written>
  void send(wire::message m, Written written) {
    std::string bytes;
    if (auto failure = serialize(std::move(m), bytes)) return written(failure);
    transport_->async_send(std::move(bytes),
                           [written = std::move(written)](boost::system::error_code ec) mutable {
                             written(ec ? send_error(ec) : nullptr);
                           });
  }
  /// Serializes `m` into `bytes` for the transport; else the failure (also: no transport).
  std::exception_ptr serialize(wire::message m, std::string& bytes);
  /// The failure a send reports for the transport's error `ec`.
  static std::exception_ptr send_error(boost::system::error_code ec);
  /// Sends request `id` and waits for its answer in the request table, within `deadline`
  /// (zero: the session's timeout).
  operation_ref request(wire::id id, wire::message m, wire::message_type kind,
                        request_completion complete, request_cleanup cleanup = {},
                        std::chrono::milliseconds deadline = {});
  void receive_next();
  void dispatch(wire::message&& m);
  /// Routes a reply to the request it answers (a late one for an abandoned request is fine).
  void answer(wire::id request, wire::message_type kind, wire::message& m, bool final = true);
  void violation(const std::string& what);
  void report_event_error(const std::string& topic, std::exception_ptr e);

  void on_welcome(wire::welcome_message& m);
  void on_abort(wire::abort_message& m);

  // authentication.cpp
  /// Adds authid, authrole, authmethods and authextra to HELLO's `details` and starts the
  /// authenticator's exchange; throws when the options contradict each other.
  void start_authentication(const join_options& options, value& details);
  void on_challenge(wire::challenge_message& m);
  /// The exchange's answer to a CHALLENGE (on the executor): AUTHENTICATE, or ABORT and failure.
  void on_challenge_answer(std::exception_ptr failure, std::string signature, value extra);
  /// Null when WELCOME may be accepted, else why not (the authentication's check failed).
  std::exception_ptr verify_welcome(const value& details);
  /// Drops the exchange, its per-join secrets and the join's credentials.
  void end_authentication() noexcept;
  void on_goodbye(wire::goodbye_message& m);
  void on_event(wire::event_message& m);
  void on_subscription_revoked(const value& details);
  void on_registration_revoked(const value& details);
  void on_invocation(wire::invocation_message& m);
  void on_interrupt(const wire::interrupt_message& m);
  subscription add_subscription(wire::id id, const std::string& topic,
                                std::function<void(const event&)> handler);

  std::shared_ptr<transport::transport> transport_;
  wire::id next_request_ = 1;
  bool released_ = false;

  wire::id connect_id_ = 0;
  done_handler connect_cb_;
  std::shared_ptr<boost::asio::cancellation_signal> connecting_;  ///< stops the connector
  wire::id join_id_ = 0;
  join_options join_options_;
  std::unique_ptr<auth::exchange> auth_exchange_;  ///< the join's authentication, if any
  bool awaiting_answer_ = false;                   ///< a CHALLENGE is with the exchange
  bool challenge_answered_ = false;                ///< AUTHENTICATE went out
  result_handler<welcome_info> join_cb_;
  std::unique_ptr<boost::asio::steady_timer> join_deadline_;
  wire::id leave_id_ = 0;
  done_handler leave_cb_;
  std::unique_ptr<boost::asio::steady_timer> leave_deadline_;

  request_table requests_;

  std::unordered_map<wire::id, subscription_state> subscriptions_;
  std::uint64_t next_slot_ = 1;
  std::unordered_map<wire::id, registration_state> registrations_;
  std::unordered_map<wire::id, std::weak_ptr<pending_invocation>> invocations_;
};

/// The answer of a completed request as the reply expected: null with `error` set when the
/// request failed or the router answered with ERROR.
template <typename Reply>
Reply* expect(std::exception_ptr& error, wire::message* answer) {
  if (!answer) return nullptr;
  if (auto* e = std::get_if<wire::error_message>(answer)) {
    error = std::make_exception_ptr(
        wamp_error(e->error, std::move(e->data.args), std::move(e->data.kwargs)));
    return nullptr;
  }
  return std::get_if<Reply>(answer);
}

/// A completion for a request whose answer carries nothing (UNSUBSCRIBE, UNREGISTER).
template <typename Reply>
request_completion completes(shared_completion<void(std::exception_ptr)> cb) {
  return [cb = std::move(cb)](session_impl&, std::exception_ptr e, wire::message* answer) {
    expect<Reply>(e, answer);
    cb(e);
  };
}

/// Options object from the user's extra options (an object, or null for none).
value options_from(const value& extra);
/// Empties an array or object whose elements are scalars (or empty), so that destroying it does
/// not allocate: nlohmann destroys a non-empty container by first moving its elements into a
/// heap vector (which spares deep nesting a deep recursion).
void empty_flat(value& v) noexcept;
/// The string `details[key]`, or `fallback` when absent or not a string.
std::string string_or(const value& details, const char* key, const std::string& fallback);
/// True when `details[key]` is the boolean true.
bool flag(const value& details, const char* key);
/// The peer a router disclosed in `details` under `role` ("caller", "publisher"): the session
/// id `details[role]` with `details[role_authid]` and `details[role_authrole]`; nullopt when
/// `details[role]` is not a session id.
std::optional<peer_identity> disclosed(const value& details, const std::string& role);
/// True for the ABORT reasons of a router refusing to authenticate (not_authorized,
/// authentication_failed, no_auth_method, no_such_principal, ...).
bool is_authentication_refusal(const std::string& reason);

}  // namespace wampbox::detail
