// wampbox — a client that keeps a session joined: it reconnects with backoff, fails over between
// routers, re-joins and re-establishes every subscription and registration (like Autobahn's
// Component), on the executor it is given and without threads of its own.
//
// A `client` owns one `session` at a time. It connects to `client_options::routers` in turn; a
// failed attempt (connect, join, or restoring the subscriptions and registrations) is followed by
// an exponential, jittered delay (`backoff_options`) before the next router is tried. When a
// joined session is lost, the client reconnects at once to the same router, then goes on as
// after a failed attempt. Each new session gets the same join_options (credentials included),
// payload codec, timeout and event-error handler, and every subscription and registration made
// through the client, with its original topic/procedure, options and handler. A subscription or
// registration the new router refuses (e.g. `wamp.error.procedure_already_exists` while a router
// has not yet noticed that the old session is gone) makes the attempt fail: the session is
// closed and the client tries again after the delay.
//
// The application is told:
//   - `on_connect(welcome_info)`: a session is joined and everything is restored (each time);
//   - `on_disconnect(error)`: a joined session was lost; the client is reconnecting;
//   - `on_attempt_failed(attempt_failure)`: one attempt failed, and how long the client waits;
//   - `async_run` completes when the client stops for good: nullptr after `async_leave`, the
//     error `errc::not_connected` ("gave up after N attempts: …") after `max_attempts`.
// `async_wait_connected` waits for the next (or current) joined session.
//
// While no session is joined, publish, call, subscribe and register fail at once with
// `errc::not_connected` ("not connected to a router (reconnecting, attempt 3)"). With
// `client_options::queue_limit` > 0 they wait instead, in order, in a queue of that size (a full
// queue fails the operation at once); a waiting operation still honours its cancellation slot and
// `client_options::timeout` (time spent waiting counts), and is started on the next session once
// it is restored. Nothing vanishes silently: an operation in flight when its session is lost
// fails with the session's error, and is not repeated (a publication or call may have reached
// the router: the application decides whether to retry).
//
// Handles (`client_subscription`, `client_registration`) are the client's own and stay valid
// across reconnects; the router's ids change with each session (an `event`'s `subscription`,
// an `invocation`'s `registration` are those of the current session).
//
// Lifetime, threads, completion tokens: as for `session`. Destroying the client (also while it
// waits between attempts) closes its session; its pending operations, waiting operations and
// `async_run` complete with `errc::session_closed`, and no handler of the application is called
// afterwards. Call it only from its executor.
#pragma once

#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/export.hpp>
#include <wampbox/session/session.hpp>
#include <wampbox/session/types.hpp>
#include <wampbox/transport/transport.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wampbox {

/// How long the client waits between failed connection attempts: exponential backoff with
/// jitter. After the n-th consecutive failure it waits `d * (1 - jitter * r)`, where
/// `d = min(max_delay, initial_delay * multiplier^(n-1))` and r is uniform in [0, 1).
struct backoff_options {
  backoff_options() = default;
  std::chrono::milliseconds initial_delay{500};  ///< delay after the first failed attempt
  std::chrono::milliseconds max_delay{30'000};   ///< the delay never grows beyond this
  double multiplier = 2.0;                       ///< growth per failed attempt (>= 1)
  /// Random part of each delay, 0..1 (0: none; 1: anything between 0 and d). Why: clients that
  /// lost the same router must not all come back at the same instant.
  double jitter = 0.5;
  /// Consecutive failed attempts after which the client gives up; 0 means never.
  std::size_t max_attempts = 0;
};

/// The delay after the `failures`-th consecutive failed attempt (1-based), for a random number
/// `random` in [0, 1) (see `backoff_options`). Pure, so that the schedule can be checked.
WAMPBOX_API std::chrono::milliseconds backoff_delay(const backoff_options& options,
                                                    std::size_t failures, double random);

/// What the client needs to know to keep a session joined.
struct client_options {
  client_options() = default;
  /// The routers, tried in turn (the nodes of a cluster); at least one.
  std::vector<transport::transport_options> routers;
  /// How to join, the same each time (realm and credentials).
  join_options join;
  /// The delays between failed attempts, and when to give up.
  backoff_options backoff;
  /// The payload hook installed on every session (null: none).
  std::shared_ptr<codec::payload_codec> codec;
  /// Bounds every wait for the router as `session::set_timeout` does, and the time an operation
  /// may wait in the queue (included in its bound); zero means none.
  std::chrono::milliseconds timeout{0};
  /// How many operations may wait for a session while none is joined; 0 (the default): none,
  /// they fail at once with errc::not_connected.
  std::size_t queue_limit = 0;
};

/// One failed connection attempt, as `client::on_attempt_failed` reports it.
struct attempt_failure {
  attempt_failure() = default;
  std::exception_ptr error;            ///< why it failed (connect, join, or restoring)
  std::string url;                     ///< the router tried
  std::size_t attempt = 0;             ///< consecutive failed attempts, this one included (1-based)
  std::chrono::milliseconds delay{0};  ///< the wait before the next attempt
  bool giving_up = false;  ///< the last attempt: `max_attempts` reached, the client stops
};

/// Handle of a subscription made through a client; valid across reconnects.
struct client_subscription {
  client_subscription() = default;
  /// A handle for the client's subscription number `id_`.
  client_subscription(std::uint64_t id_, std::string topic_) : id(id_), topic(std::move(topic_)) {}
  std::uint64_t id = 0;  ///< the client's number (not the router's subscription id)
  std::string topic;     ///< the subscribed topic or pattern
};

/// Handle of a registration made through a client; valid across reconnects.
struct client_registration {
  client_registration() = default;
  /// A handle for the client's registration number `id_`.
  client_registration(std::uint64_t id_, std::string procedure_)
      : id(id_), procedure(std::move(procedure_)) {}
  std::uint64_t id = 0;   ///< the client's number (not the router's registration id)
  std::string procedure;  ///< the registered procedure or pattern
};

namespace detail {
class client_impl;
}

/// A reconnecting WAMP client (see the top of this header). Movable, not copyable; a moved-from
/// client completes every operation with errc::session_closed.
class WAMPBOX_API client {
 public:
  using executor_type = boost::asio::any_io_executor;
  /// The completion token used when none is given (as for `session`).
  using default_token = session::default_token;

  /// A client that runs on `executor`. Throws std::invalid_argument for options that cannot
  /// work (no router, a negative delay, max_delay below initial_delay, multiplier below 1,
  /// jitter outside 0..1).
  client(executor_type executor, client_options options);
  ~client();
  client(client&&) noexcept;
  /// Ends this client (as the destructor does), then takes over `other`'s.
  client& operator=(client&&) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// The executor the client runs on.
  executor_type get_executor() const;
  /// Called each time a session is joined and every subscription and registration restored.
  void on_connect(std::function<void(const welcome_info&)> handler);
  /// Called each time a joined session is lost, with its error; the client reconnects.
  void on_disconnect(std::function<void(std::exception_ptr)> handler);
  /// Called after each failed attempt (before the wait that follows it).
  void on_attempt_failed(std::function<void(const attempt_failure&)> handler);
  /// Handler for events that could not be delivered, installed on every session.
  void on_event_error(event_error_handler handler);
  /// True while a session is joined and restored (operations then go straight to it).
  bool is_connected() const noexcept;
  /// The WELCOME of the current session (empty while not connected).
  const welcome_info& welcome() const noexcept;
  /// Operations waiting in the queue for a session.
  std::size_t waiting() const noexcept;

  /// Runs the client: connects at once, and keeps a session joined until `async_leave`, giving
  /// up (`backoff_options::max_attempts`) or destruction. Completes when it stops: nullptr after
  /// `async_leave`, errc::not_connected when it gave up. Cancellation stops the client at once
  /// (the transport is closed, waiting operations fail). A client runs once at a time (a second
  /// run completes with errc::already_joined); after it stopped it may run again.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_run(CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &client::do_run);
  }

  /// Waits until a session is joined and restored (completes at once when one is): with its
  /// WELCOME, or with the error that stopped the client. Cancellation stops only the wait.
  /// Signature: `void(std::exception_ptr, welcome_info)`.
  template <typename CompletionToken = default_token>
  auto async_wait_connected(CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, welcome_info)>(token, &client::do_wait_connected);
  }

  /// Stops the client: leaves the realm when joined (GOODBYE), fails waiting operations with
  /// errc::session_closed, and completes `async_run` with nullptr.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_leave(std::string reason = "wamp.close.normal", CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &client::do_leave, std::move(reason));
  }

  /// `session::async_publish` on the current session, or queued (see the top of this header).
  /// Signature: `void(std::exception_ptr, std::optional<wire::id>)`.
  template <typename CompletionToken = default_token>
  auto async_publish(std::string topic, value args = nullptr, value kwargs = nullptr,
                     publish_options options = {}, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, std::optional<wire::id>)>(
        token, &client::do_publish, std::move(topic), std::move(args), std::move(kwargs),
        std::move(options));
  }

  /// `session::async_call` on the current session, or queued.
  /// Signature: `void(std::exception_ptr, call_result)`.
  template <typename CompletionToken = default_token>
  auto async_call(std::string procedure, value args = nullptr, value kwargs = nullptr,
                  call_options options = {}, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, call_result)>(token, &client::do_call,
                                                           std::move(procedure), std::move(args),
                                                           std::move(kwargs), std::move(options));
  }

  /// Subscribes `handler` (any form `make_event_handler` accepts) on the current session, or
  /// queued; the subscription is re-made on every later session.
  /// Signature: `void(std::exception_ptr, client_subscription)`.
  template <typename Handler, typename CompletionToken = default_token>
  auto async_subscribe(std::string topic, Handler handler, subscribe_options options = {},
                       CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, client_subscription)>(
        token, &client::do_subscribe, std::move(topic), make_event_handler(std::move(handler)),
        std::move(options));
  }

  /// Ends a subscription: on the router when connected (UNSUBSCRIBE), else at once locally.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_unsubscribe(client_subscription sub, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &client::do_unsubscribe, std::move(sub));
  }

  /// Registers a procedure (`handler`: any form `make_invocation_handler` accepts) on the
  /// current session, or queued; the registration is re-made on every later session.
  /// Signature: `void(std::exception_ptr, client_registration)`.
  template <typename Handler, typename CompletionToken = default_token>
  auto async_register(std::string procedure, Handler handler, register_options options = {},
                      CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, client_registration)>(
        token, &client::do_register, std::move(procedure),
        make_invocation_handler(std::move(handler), get_executor()), std::move(options));
  }

  /// Ends a registration: on the router when connected (UNREGISTER), else at once locally.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_unregister(client_registration reg, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &client::do_unregister, std::move(reg));
  }

 private:
  using impl_ptr = std::shared_ptr<detail::client_impl>;
  template <typename Signature>
  using handler_of = boost::asio::any_completion_handler<Signature>;

  // The initiation owns a shared_ptr to the impl, never the client object (as for session).
  template <typename Signature, typename CompletionToken, typename Start, typename... Args>
  auto initiate(CompletionToken& token, Start start, Args&&... args) {
    return boost::asio::async_initiate<CompletionToken, Signature>(
        [impl = impl_, ex = executor_, start](auto handler, auto... a) {
          start(impl, ex, handler_of<Signature>(std::move(handler)), std::move(a)...);
        },
        token, std::forward<Args>(args)...);
  }

  // Each starts an operation on `impl` (null for a moved-from client: it then completes with
  // errc::session_closed on `ex`).
  static void do_run(const impl_ptr& impl, const executor_type& ex,
                     handler_of<void(std::exception_ptr)> handler);
  static void do_wait_connected(const impl_ptr& impl, const executor_type& ex,
                                handler_of<void(std::exception_ptr, welcome_info)> handler);
  static void do_leave(const impl_ptr& impl, const executor_type& ex,
                       handler_of<void(std::exception_ptr)> handler, std::string reason);
  static void do_publish(const impl_ptr& impl, const executor_type& ex,
                         handler_of<void(std::exception_ptr, std::optional<wire::id>)> handler,
                         std::string topic, value args, value kwargs, publish_options options);
  static void do_call(const impl_ptr& impl, const executor_type& ex,
                      handler_of<void(std::exception_ptr, call_result)> handler,
                      std::string procedure, value args, value kwargs, call_options options);
  static void do_subscribe(const impl_ptr& impl, const executor_type& ex,
                           handler_of<void(std::exception_ptr, client_subscription)> handler,
                           std::string topic, std::function<void(const event&)> event_handler,
                           subscribe_options options);
  static void do_unsubscribe(const impl_ptr& impl, const executor_type& ex,
                             handler_of<void(std::exception_ptr)> handler, client_subscription sub);
  static void do_register(const impl_ptr& impl, const executor_type& ex,
                          handler_of<void(std::exception_ptr, client_registration)> handler,
                          std::string procedure, invocation_handler invocation,
                          register_options options);
  static void do_unregister(const impl_ptr& impl, const executor_type& ex,
                            handler_of<void(std::exception_ptr)> handler, client_registration reg);

  executor_type executor_;  // kept by a moved-from client, to complete its operations
  impl_ptr impl_;
};

}  // namespace wampbox
