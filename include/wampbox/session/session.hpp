// wampbox — a WAMP session: the four client roles of the Basic Profile over any transport.
//
// Asynchronous operations take an Asio completion token, so one API serves callbacks,
// `boost::asio::use_future` and C++20 `boost::asio::use_awaitable`. Every completion has the
// signature `void(std::exception_ptr[, T])`: a failure arrives as an exception (a
// `wampbox::error`, a `wampbox::wamp_error` carrying URI/args/kwargs, or a
// `wampbox::payload_error`), which futures and coroutines rethrow.
//
// Thread safety: a session is not thread-safe. Call its member functions only from its
// executor (pass a strand when the io_context runs on several threads). All handlers —
// completions, event handlers, invocation handlers — run on that executor (completions on
// their associated executor). wampbox starts no threads of its own.
#pragma once

#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/session/types.hpp>
#include <wampbox/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace wampbox {

namespace detail {
class session_impl;
struct pending_invocation;

/// Wraps a (possibly move-only) completion handler into a copyable callback that posts the
/// completion to the handler's associated executor (never runs it inline: no re-entrancy).
template <typename... Args, typename Handler>
std::function<void(Args...)> share_handler(Handler&& handler,
                                           const boost::asio::any_io_executor& fallback) {
  auto ex = boost::asio::get_associated_executor(handler, fallback);
  auto shared = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
  return [shared, ex](Args... args) {
    boost::asio::post(ex, [shared, ... args = std::move(args)]() mutable {
      std::move (*shared)(std::move(args)...);
    });
  };
}

template <typename T>
struct is_awaitable : std::false_type {};
template <typename T, typename E>
struct is_awaitable<boost::asio::awaitable<T, E>> : std::true_type {};
}  // namespace detail

/// Answers one INVOCATION, now or later. Copyable; all copies refer to the same invocation.
/// An invocation whose every responder is dropped unanswered is answered with the error
/// `wamp.error.runtime_error` ("invocation dropped without an answer"), so no caller waits
/// forever.
class responder {
 public:
  /// Sends the final result (YIELD).
  void yield(call_result result = {});
  /// Sends a progressive result; ignored when the caller did not ask for progress.
  void progress(call_result result);
  /// Sends a WAMP error with its URI and payload.
  void error(std::string uri, value args = nullptr, value kwargs = nullptr);
  /// Answers with the WAMP error an exception stands for: a `wamp_error` as itself, a
  /// `payload_error` as its `wamp.error.encryption.*` URI, anything else as
  /// `wamp.error.runtime_error` with the exception's message.
  void fail(std::exception_ptr exception);
  /// True once the router sent INTERRUPT (the call was canceled); answers are then dropped.
  bool interrupted() const noexcept;
  /// True once a final answer (yield or error) was sent.
  bool answered() const noexcept;

 private:
  friend class detail::session_impl;
  explicit responder(std::shared_ptr<detail::pending_invocation> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::pending_invocation> state_;
};

/// What the session calls for each INVOCATION of a registration.
using invocation_handler = std::function<void(invocation, responder)>;

/// Makes an invocation_handler from any of: `void(invocation, responder)` (answer any time),
/// `call_result(const invocation&)` (answer by returning; a thrown `wamp_error` becomes that
/// WAMP error, any other exception `wamp.error.runtime_error`), or
/// `boost::asio::awaitable<call_result>(invocation)` (a coroutine, spawned on the session's
/// executor).
template <typename Handler>
invocation_handler make_invocation_handler(Handler handler, boost::asio::any_io_executor ex);

/// Reports the end of a session: nullptr after a clean leave, else the error (abort, transport
/// failure, protocol violation).
using disconnect_handler = std::function<void(std::exception_ptr)>;

/// A WAMP client session. Movable, not copyable. Destroying it closes the transport; pending
/// operations then complete with errc::session_closed.
class session {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Creates an unconnected session whose work all runs on `executor`.
  explicit session(executor_type executor);
  ~session();
  session(session&&) noexcept;
  session& operator=(session&&) noexcept;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// The executor the session runs on.
  executor_type get_executor() const;
  /// Installs the payload hook (e.g. a `cryptobox_codec`). Call before joining: HELLO announces
  /// payload transparency and encryption only when a codec is set.
  void set_payload_codec(std::shared_ptr<codec::payload_codec> codec);
  /// Handler for events that could not be delivered (decryption failure, handler exception)
  /// on subscriptions. Without one, such events are reported on stderr (never their payload).
  void on_event_error(event_error_handler handler);
  /// Handler called once when the session ends.
  void on_disconnect(disconnect_handler handler);
  /// True between a successful join and the end of the session.
  bool is_joined() const noexcept;
  /// The WELCOME of the current session (empty before joining).
  const welcome_info& welcome() const noexcept;

  /// Connects the transport. Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken>
  auto async_connect(transport::transport_options options, CompletionToken&& token) {
    return initiate<void(std::exception_ptr)>(token, [this](auto cb, auto opts) {
      do_connect(std::move(opts), std::move(cb));
    }, std::move(options));
  }

  /// Uses an already connected transport instead of `async_connect` (custom transports,
  /// tests). The transport must run on this session's executor.
  void attach(std::shared_ptr<transport::transport> connected);

  /// Joins a realm (HELLO, optional CHALLENGE/AUTHENTICATE, WELCOME or ABORT).
  /// Signature: `void(std::exception_ptr, welcome_info)`.
  template <typename CompletionToken>
  auto async_join(join_options options, CompletionToken&& token) {
    return initiate<void(std::exception_ptr, welcome_info)>(token, [this](auto cb, auto opts) {
      do_join(std::move(opts), std::move(cb));
    }, std::move(options));
  }

  /// Leaves the realm (GOODBYE both ways) and closes the transport.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken>
  auto async_leave(std::string reason, CompletionToken&& token) {
    return initiate<void(std::exception_ptr)>(token, [this](auto cb, auto r) {
      do_leave(std::move(r), std::move(cb));
    }, std::move(reason));
  }

  /// Publishes an event. Completes when the message was written, or, with
  /// `options.acknowledge`, when the router confirmed it (then with the publication id).
  /// Signature: `void(std::exception_ptr, std::optional<wire::id>)`.
  template <typename CompletionToken>
  auto async_publish(std::string topic, value args, value kwargs, publish_options options,
                     CompletionToken&& token) {
    return initiate<void(std::exception_ptr, std::optional<wire::id>)>(
        token,
        [this](auto cb, auto t, auto a, auto k, auto o) {
          do_publish(std::move(t), std::move(a), std::move(k), std::move(o), std::move(cb));
        },
        std::move(topic), std::move(args), std::move(kwargs), std::move(options));
  }

  /// Subscribes `handler` to a topic. Several handlers may subscribe to the same topic.
  /// Signature: `void(std::exception_ptr, subscription)`.
  template <typename CompletionToken>
  auto async_subscribe(std::string topic, std::function<void(const event&)> handler,
                       subscribe_options options, CompletionToken&& token) {
    return initiate<void(std::exception_ptr, subscription)>(
        token,
        [this](auto cb, auto t, auto h, auto o) {
          do_subscribe(std::move(t), std::move(h), std::move(o), std::move(cb));
        },
        std::move(topic), std::move(handler), std::move(options));
  }

  /// Removes a subscription handler; the last one for a topic sends UNSUBSCRIBE.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken>
  auto async_unsubscribe(subscription sub, CompletionToken&& token) {
    return initiate<void(std::exception_ptr)>(token, [this](auto cb, auto s) {
      do_unsubscribe(std::move(s), std::move(cb));
    }, std::move(sub));
  }

  /// Calls a procedure. A WAMP error arrives as `wamp_error`. Canceling the operation (Asio
  /// per-operation cancellation, e.g. a bound cancellation slot) sends CANCEL (mode "kill") and
  /// completes with `boost::asio::error::operation_aborted`.
  /// Signature: `void(std::exception_ptr, call_result)`.
  template <typename CompletionToken>
  auto async_call(std::string procedure, value args, value kwargs, call_options options,
                  CompletionToken&& token) {
    return initiate<void(std::exception_ptr, call_result)>(
        token,
        [this](auto cb, auto p, auto a, auto k, auto o) {
          return do_call(std::move(p), std::move(a), std::move(k), std::move(o), std::move(cb));
        },
        std::move(procedure), std::move(args), std::move(kwargs), std::move(options));
  }

  /// Registers a procedure. `handler` is any form `make_invocation_handler` accepts.
  /// Signature: `void(std::exception_ptr, registration)`.
  template <typename Handler, typename CompletionToken>
  auto async_register(std::string procedure, Handler handler, register_options options,
                      CompletionToken&& token) {
    return initiate<void(std::exception_ptr, registration)>(
        token,
        [this](auto cb, auto p, auto h, auto o) {
          do_register(std::move(p), std::move(h), std::move(o), std::move(cb));
        },
        std::move(procedure), make_invocation_handler(std::move(handler), get_executor()),
        std::move(options));
  }

  /// Unregisters a procedure. Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken>
  auto async_unregister(registration reg, CompletionToken&& token) {
    return initiate<void(std::exception_ptr)>(token, [this](auto cb, auto r) {
      do_unregister(std::move(r), std::move(cb));
    }, std::move(reg));
  }

 private:
  template <typename Signature>
  struct callback_of;
  template <typename... Args>
  struct callback_of<void(Args...)> {
    using type = std::function<void(Args...)>;
    template <typename Handler>
    static type wrap(Handler&& h, const executor_type& ex) {
      return detail::share_handler<Args...>(std::forward<Handler>(h), ex);
    }
  };

  // Runs `start(callback, args...)`; a non-void return value of `start` is a request id
  // that the handler's cancellation slot, if connected, cancels.
  template <typename Signature, typename CompletionToken, typename Start, typename... Args>
  auto initiate(CompletionToken& token, Start start, Args&&... args) {
    return boost::asio::async_initiate<CompletionToken, Signature>(
        [this, start](auto handler, auto... a) mutable {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          auto cb = callback_of<Signature>::wrap(std::move(handler), get_executor());
          if constexpr (std::is_void_v<decltype(start(cb, std::move(a)...))>) {
            start(std::move(cb), std::move(a)...);
          } else {
            auto request = start(std::move(cb), std::move(a)...);
            if (slot.is_connected() && request) cancel_on(slot, request);
          }
        },
        token, std::forward<Args>(args)...);
  }

  void cancel_on(boost::asio::cancellation_slot slot, wire::id request);

  void do_connect(transport::transport_options options, std::function<void(std::exception_ptr)> cb);
  void do_join(join_options options, std::function<void(std::exception_ptr, welcome_info)> cb);
  void do_leave(std::string reason, std::function<void(std::exception_ptr)> cb);
  void do_publish(std::string topic, value args, value kwargs, publish_options options,
                  std::function<void(std::exception_ptr, std::optional<wire::id>)> cb);
  void do_subscribe(std::string topic, std::function<void(const event&)> handler,
                    subscribe_options options,
                    std::function<void(std::exception_ptr, subscription)> cb);
  void do_unsubscribe(subscription sub, std::function<void(std::exception_ptr)> cb);
  wire::id do_call(std::string procedure, value args, value kwargs, call_options options,
                   std::function<void(std::exception_ptr, call_result)> cb);
  void do_register(std::string procedure, invocation_handler handler, register_options options,
                   std::function<void(std::exception_ptr, registration)> cb);
  void do_unregister(registration reg, std::function<void(std::exception_ptr)> cb);

  std::shared_ptr<detail::session_impl> impl_;
};

template <typename Handler>
invocation_handler make_invocation_handler(Handler handler, boost::asio::any_io_executor ex) {
  if constexpr (std::is_invocable_v<Handler&, invocation, responder>) {
    return invocation_handler(std::move(handler));
  } else if constexpr (std::is_invocable_v<Handler&, invocation> &&
                       detail::is_awaitable<std::invoke_result_t<Handler&, invocation>>::value) {
    return [handler = std::move(handler), ex](invocation inv, responder r) mutable {
      boost::asio::co_spawn(ex, handler(std::move(inv)),
                            [r](std::exception_ptr e, call_result result) mutable {
                              if (e)
                                r.fail(e);
                              else
                                r.yield(std::move(result));
                            });
    };
  } else {
    static_assert(std::is_invocable_r_v<call_result, Handler&, const invocation&>,
                  "an invocation handler takes (invocation, responder), returns call_result "
                  "from (const invocation&), or returns awaitable<call_result> from (invocation)");
    return [handler = std::move(handler)](invocation inv, responder r) mutable {
      r.yield(handler(inv));  // exceptions propagate: the session turns them into ERROR
    };
  }
}

}  // namespace wampbox
