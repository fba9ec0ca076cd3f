// wampbox — a WAMP session: the four client roles of the Basic Profile over any transport.
//
// Asynchronous operations take an Asio completion token, so one API serves callbacks,
// `boost::asio::use_future` and C++20 `boost::asio::use_awaitable`. The default token is
// `boost::asio::use_awaitable`, so a coroutine may simply `co_await s.async_call(...)` (and
// combine operations with awaitable operators). Every
// completion has the signature `void(std::exception_ptr[, T])`: a failure arrives as an
// exception (a `wampbox::error`, a `wampbox::wamp_error` carrying URI/args/kwargs, or a
// `wampbox::payload_error`), which futures and coroutines rethrow; with
// `boost::asio::as_tuple(boost::asio::use_awaitable)` it arrives as a value instead.
//
// Cancellation: every operation honours Asio per-operation cancellation (any type, e.g. a
// bound cancellation slot or an awaitable operator): it completes once with
// `boost::asio::error::operation_aborted` and the protocol stays consistent (see each
// operation). `session::set_timeout` bounds every wait for the router the same way, completing
// with `boost::asio::error::timed_out`.
//
// Lifetime: operations keep what they use alive. An operation started on a moved-from or
// destroyed session, and every operation pending when the session is destroyed, completes with
// `errc::session_closed`.
//
// Thread safety: a session is not thread-safe. Call its member functions only from its
// executor (pass a strand when the io_context runs on several threads). All handlers —
// completions, event handlers, invocation handlers — run on that executor (completions on
// their associated executor). wampbox starts no threads of its own.
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/session/arguments.hpp>
#include <wampbox/session/types.hpp>
#include <wampbox/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

namespace wampbox {

namespace detail {
class session_impl;
struct pending_invocation;
/// The allocator a completion keeps its handler with: the handler's associated allocator, where
/// std::allocator (no preference) means Asio's per-thread recycling allocator, as Asio does for
/// its own operations (so that an operation in steady state does not reach operator new).
template <typename Handler>
struct completion_allocator {
  using type = boost::asio::associated_allocator_t<Handler>;
  static type get(const Handler& h) { return boost::asio::get_associated_allocator(h); }
};
template <typename T>
constexpr bool is_std_allocator = false;
template <typename T>
constexpr bool is_std_allocator<std::allocator<T>> = true;
template <typename Handler>
requires is_std_allocator<boost::asio::associated_allocator_t<Handler>>
struct completion_allocator<Handler> {
  using type = boost::asio::recycling_allocator<void>;
  static type get(const Handler&) { return {}; }
};

/// A (possibly move-only) completion handler, type-erased into one object kept with the
/// handler's allocator (`completion_allocator`). Copies share it without allocating. The first
/// call posts the handler to its associated executor (never runs it inline: no re-entrancy);
/// later calls do nothing. The handler's cancellation slot is cleared before it runs (Asio's rule
/// for a completed operation). An empty completion (default-constructed) ignores calls.
template <typename Signature>
class shared_completion;

template <typename... Args>
class shared_completion<void(Args...)> {
 public:
  shared_completion() = default;
  /// Takes `handler`; it runs on its associated executor, else on `fallback`.
  template <typename Handler>
  shared_completion(Handler&& handler, const boost::asio::any_io_executor& fallback)
      : op_(op<std::decay_t<Handler>>::make(std::forward<Handler>(handler), fallback)) {}
  shared_completion(const shared_completion& other) noexcept : op_(other.op_) {
    if (op_) op_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  shared_completion(shared_completion&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
  shared_completion& operator=(shared_completion other) noexcept {
    std::swap(op_, other.op_);
    return *this;
  }
  ~shared_completion() {
    if (op_ && op_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) op_->destroy(op_);
  }

  /// False for an empty completion.
  explicit operator bool() const noexcept { return op_ != nullptr; }
  /// Posts the handler with `args` (the first call only).
  void operator()(Args... args) const {
    // Atomic, as the count: copies are meant for the session's executor, a stray one costs little.
    if (op_ && !op_->called.exchange(true)) op_->complete(op_, std::move(args)...);
  }

 private:
  struct op_base {
    std::atomic<std::size_t> refs{1};
    std::atomic<bool> called{false};
    void (*complete)(op_base*, Args&&...);
    void (*destroy)(op_base*) noexcept;
  };

  /// The handler and its arguments, as posted.
  template <typename Handler>
  struct call {
    Handler handler;
    std::tuple<Args...> args;
    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept {
      return boost::asio::get_associated_allocator(handler);
    }
    void operator()() {
      auto slot = boost::asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.clear();
      std::apply(std::move(handler), std::move(args));
    }
  };

  template <typename Handler>
  struct op final : op_base {
    using allocator_type = typename std::allocator_traits<
        typename completion_allocator<Handler>::type>::template rebind_alloc<op>;
    Handler handler;  // moved out by the call
    boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor> executor;
    allocator_type allocator;

    op(Handler&& h, const boost::asio::any_io_executor& fallback, const allocator_type& a)
        : op_base{{1}, {false}, &op::complete_op, &op::destroy_op},
          handler(std::move(h)),
          executor(boost::asio::get_associated_executor(handler, fallback)),
          allocator(a) {}

    static op_base* make(Handler&& h, const boost::asio::any_io_executor& fallback) {
      allocator_type a(completion_allocator<Handler>::get(h));
      op* p = std::allocator_traits<allocator_type>::allocate(a, 1);
      try {
        return ::new (static_cast<void*>(p)) op(std::move(h), fallback, a);
      } catch (...) {
        std::allocator_traits<allocator_type>::deallocate(a, p, 1);
        throw;
      }
    }
    static void complete_op(op_base* base, Args&&... args) {
      auto* self = static_cast<op*>(base);
      boost::asio::post(self->executor,
                        call<Handler>{std::move(self->handler), {std::move(args)...}});
    }
    static void destroy_op(op_base* base) noexcept {
      auto* self = static_cast<op*>(base);
      allocator_type a(self->allocator);
      self->~op();
      std::allocator_traits<allocator_type>::deallocate(a, self, 1);
    }
  };

  op_base* op_ = nullptr;
};

/// Names a pending operation for cancellation.
struct operation_ref {
  enum class kind : unsigned char { none, connect, join, leave, request };
  kind what = kind::none;  ///< none: the operation completed at once, nothing to cancel
  wire::id id = 0;         ///< the request id (also numbers connect, join and leave)
};

template <typename T>
struct is_awaitable : std::false_type {};
template <typename T, typename E>
struct is_awaitable<boost::asio::awaitable<T, E>> : std::true_type {};

/// True for a handler that takes an invocation and returns an awaitable (a coroutine).
template <typename Handler>
constexpr bool returns_awaitable() {
  if constexpr (std::is_invocable_v<Handler&, invocation>)
    return is_awaitable<std::invoke_result_t<Handler&, invocation>>::value;
  else
    return false;
}
}  // namespace detail

/// Answers one INVOCATION, now or later, from any thread: each answer is handed to the
/// session's executor (run at once when called there), so a worker pool may answer.
/// Copyable; all copies refer to the same invocation. An invocation whose every responder is
/// dropped unanswered is answered with the error `wamp.error.runtime_error` ("invocation dropped
/// without an answer"), so no caller waits forever.
class WAMPBOX_API responder {
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
  /// True once the router sent INTERRUPT (the call was canceled, or its router-side timeout
  /// passed) or the session ended; answers are then dropped.
  bool interrupted() const noexcept;
  /// Runs `handler` once on the session's executor when the invocation is interrupted (right away
  /// if it already was), so a long-running handler can stop its work. The session has then
  /// already answered the router (ERROR wamp.error.canceled). Not run when the session object
  /// is destroyed. A later call replaces an earlier handler. The handler is dropped once the
  /// invocation is answered; a responder it holds keeps the invocation alive until then.
  void on_interrupt(std::function<void()> handler);
  /// True once a final answer (yield or error) was handed over.
  bool answered() const noexcept;

 private:
  friend class detail::session_impl;
  explicit responder(std::shared_ptr<detail::pending_invocation> state)
      : state_(std::move(state)) {}
  std::shared_ptr<detail::pending_invocation> state_;
};

/// What the session calls for each INVOCATION of a registration.
using invocation_handler = std::function<void(invocation, responder)>;

/// Makes an invocation_handler from any of: `void(invocation, responder)` (answer any time),
/// `call_result(const invocation&)` (answer by returning; a thrown `wamp_error` becomes that
/// WAMP error, any other exception `wamp.error.runtime_error`),
/// `boost::asio::awaitable<call_result>(invocation)` (a coroutine, spawned on the session's
/// executor), or a typed handler such as `[](int a, int b) { return a + b; }` (parameters
/// converted from the positional arguments, else `wamp.error.invalid_argument`; the return
/// value, if any, is the single result argument, or a call_result).
template <typename Handler>
invocation_handler make_invocation_handler(Handler handler, boost::asio::any_io_executor ex);

/// Reports the end of a session: nullptr after a clean leave, else the error (abort, transport
/// failure, protocol violation).
using disconnect_handler = std::function<void(std::exception_ptr)>;

/// A WAMP client session. Movable, not copyable. Destroying it closes the transport (also one
/// still connecting); pending operations then complete with errc::session_closed.
class WAMPBOX_API session {
 public:
  using executor_type = boost::asio::any_io_executor;
  /// The completion token used when none is given. (Not `deferred`: Boost 1.81 cannot
  /// co_await a deferred operation whose first argument is an exception_ptr.)
  using default_token = boost::asio::use_awaitable_t<>;

  /// Creates an unconnected session whose work all runs on `executor`.
  explicit session(executor_type executor);
  ~session();
  /// Moves the session; operations already started follow it, and the moved-from session
  /// completes new operations with errc::session_closed.
  session(session&&) noexcept;
  /// Ends this session (as the destructor does), then takes over `other`'s.
  session& operator=(session&&) noexcept;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// The executor the session runs on.
  executor_type get_executor() const;
  /// Installs the payload hook (e.g. a `cryptobox_codec`). Call before joining: HELLO announces
  /// the features the codec names (`payload_codec::hello_features`).
  void set_payload_codec(std::shared_ptr<codec::payload_codec> codec);
  /// Handler for events that could not be delivered (decryption failure, handler exception)
  /// on subscriptions. Without one, such events are reported on stderr (never their payload).
  void on_event_error(event_error_handler handler);
  /// Handler called once when the session ends.
  void on_disconnect(disconnect_handler handler);
  /// Client-side deadline for every operation that waits for the router (join, leave,
  /// acknowledged publish, subscribe, unsubscribe, register, unregister, call); zero (the
  /// default) means none. An operation past it is canceled as by per-operation cancellation but
  /// completes with `boost::asio::error::timed_out`. Applies to operations started afterwards.
  void set_timeout(std::chrono::milliseconds timeout);
  /// True between a successful join and the end of the session.
  bool is_joined() const noexcept;
  /// The WELCOME of the current session (empty before joining).
  const welcome_info& welcome() const noexcept;

  /// Connects the transport (bounded by `options.handshake_timeout`). Cancellation closes the
  /// half-made connection. Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_connect(transport::transport_options options, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &session::do_connect, std::move(options));
  }

  /// Uses an already connected transport instead of `async_connect` (custom transports,
  /// tests). The transport must run on this session's executor.
  void attach(std::shared_ptr<transport::transport> connected);

  /// Joins a realm (HELLO, optional CHALLENGE/AUTHENTICATE, WELCOME or ABORT). Cancellation
  /// sends ABORT and closes the transport. Signature: `void(std::exception_ptr, welcome_info)`.
  template <typename CompletionToken = default_token>
  auto async_join(join_options options, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, welcome_info)>(token, &session::do_join,
                                                            std::move(options));
  }

  /// Leaves the realm (GOODBYE both ways) and closes the transport. Cancellation closes the
  /// transport at once. Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_leave(std::string reason = "wamp.close.normal", CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &session::do_leave, std::move(reason));
  }

  /// Publishes an event. Completes when the message was written, or, with
  /// `options.acknowledge`, when the router confirmed it (then with the publication id).
  /// Cancellation stops waiting for PUBLISHED (the event may still be published).
  /// Signature: `void(std::exception_ptr, std::optional<wire::id>)`.
  template <typename CompletionToken = default_token>
  auto async_publish(std::string topic, value args = nullptr, value kwargs = nullptr,
                     publish_options options = {}, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, std::optional<wire::id>)>(
        token, &session::do_publish, std::move(topic), std::move(args), std::move(kwargs),
        std::move(options));
  }

  /// Subscribes `handler` (any form `make_event_handler` accepts) to a topic. Several
  /// handlers may subscribe to the same topic. Cancellation completes at once; a SUBSCRIBED
  /// arriving later is undone with UNSUBSCRIBE.
  /// Signature: `void(std::exception_ptr, subscription)`.
  template <typename Handler, typename CompletionToken = default_token>
  auto async_subscribe(std::string topic, Handler handler, subscribe_options options = {},
                       CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, subscription)>(
        token, &session::do_subscribe, std::move(topic), make_event_handler(std::move(handler)),
        std::move(options));
  }

  /// Removes a subscription handler; the last one for a topic sends UNSUBSCRIBE.
  /// Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_unsubscribe(subscription sub, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &session::do_unsubscribe, std::move(sub));
  }

  /// Calls a procedure. A WAMP error arrives as `wamp_error`. Cancellation sends CANCEL with
  /// `options.cancel_mode` and completes with `boost::asio::error::operation_aborted`.
  /// Signature: `void(std::exception_ptr, call_result)`.
  template <typename CompletionToken = default_token>
  auto async_call(std::string procedure, value args = nullptr, value kwargs = nullptr,
                  call_options options = {}, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, call_result)>(token, &session::do_call,
                                                           std::move(procedure), std::move(args),
                                                           std::move(kwargs), std::move(options));
  }

  /// Registers a procedure. `handler` is any form `make_invocation_handler` accepts.
  /// Cancellation completes at once; a REGISTERED arriving later is undone with UNREGISTER.
  /// Signature: `void(std::exception_ptr, registration)`.
  template <typename Handler, typename CompletionToken = default_token>
  auto async_register(std::string procedure, Handler handler, register_options options = {},
                      CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr, registration)>(
        token, &session::do_register, std::move(procedure),
        make_invocation_handler(std::move(handler), get_executor()), std::move(options));
  }

  /// Unregisters a procedure. Signature: `void(std::exception_ptr)`.
  template <typename CompletionToken = default_token>
  auto async_unregister(registration reg, CompletionToken&& token = {}) {
    return initiate<void(std::exception_ptr)>(token, &session::do_unregister, std::move(reg));
  }

 private:
  template <typename>
  friend class scoped;
  using impl_ptr = std::shared_ptr<detail::session_impl>;
  template <typename Signature>
  struct callback_of;
  template <typename... Args>
  struct callback_of<void(Args...)> {
    using type = detail::shared_completion<void(Args...)>;
    template <typename Handler>
    static type wrap(Handler&& h, const executor_type& ex) {
      return type(std::forward<Handler>(h), ex);
    }
  };

  // Runs `start(impl, callback, args...)` when the operation is initiated (for `deferred`,
  // possibly later). The initiation owns a shared_ptr to the impl it was made for, never the
  // session object, so moving or destroying the session meanwhile is safe.
  template <typename Signature, typename CompletionToken, typename Start, typename... Args>
  auto initiate(CompletionToken& token, Start start, Args&&... args) {
    return boost::asio::async_initiate<CompletionToken, Signature>(
        [impl = impl_, ex = executor_, start](auto handler, auto... a) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          const detail::operation_ref op =
              start(impl, callback_of<Signature>::wrap(std::move(handler), ex), std::move(a)...);
          if (slot.is_connected() && impl && op.what != detail::operation_ref::kind::none)
            cancel_on(slot, impl, op);
        },
        token, std::forward<Args>(args)...);
  }

  // Makes `slot` cancel the operation `op` of `impl` (holds the impl weakly).
  static void cancel_on(boost::asio::cancellation_slot slot, const impl_ptr& impl,
                        detail::operation_ref op);
  // End a subscription handler (UNSUBSCRIBE when it was the last) or a registration without
  // waiting; for `scoped`. Members, not detail functions, so that libwampbox exports no detail.
  static void end_handle(detail::session_impl& s, const subscription& sub) noexcept;
  static void end_handle(detail::session_impl& s, const registration& reg) noexcept;

  // Each starts an operation on `impl` (null for a moved-from session: then it completes
  // with errc::session_closed) and names it for cancellation.
  static detail::operation_ref do_connect(const impl_ptr& impl,
                                          detail::shared_completion<void(std::exception_ptr)> cb,
                                          transport::transport_options options);
  static detail::operation_ref do_join(
      const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, welcome_info)> cb,
      join_options options);
  static detail::operation_ref do_leave(const impl_ptr& impl,
                                        detail::shared_completion<void(std::exception_ptr)> cb,
                                        std::string reason);
  static detail::operation_ref do_publish(
      const impl_ptr& impl,
      detail::shared_completion<void(std::exception_ptr, std::optional<wire::id>)> cb,
      std::string topic, value args, value kwargs, publish_options options);
  static detail::operation_ref do_subscribe(
      const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, subscription)> cb,
      std::string topic, std::function<void(const event&)> handler, subscribe_options options);
  static detail::operation_ref do_unsubscribe(
      const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr)> cb,
      subscription sub);
  static detail::operation_ref do_call(
      const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, call_result)> cb,
      std::string procedure, value args, value kwargs, call_options options);
  static detail::operation_ref do_register(
      const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, registration)> cb,
      std::string procedure, invocation_handler handler, register_options options);
  static detail::operation_ref do_unregister(const impl_ptr& impl,
                                             detail::shared_completion<void(std::exception_ptr)> cb,
                                             registration reg);

  executor_type executor_;  // kept by a moved-from session, to complete its operations
  impl_ptr impl_;
};

/// Owns a subscription or registration: ends it (UNSUBSCRIBE, UNREGISTER) when destroyed or
/// reset, without waiting for the router. Safe to outlive its session (then it does nothing).
/// Destroy it on the session's executor. Move-only. Use `scoped_subscription` and
/// `scoped_registration`, e.g. `scoped_subscription keep(s, co_await s.async_subscribe(...));`.
template <typename Handle>
class scoped {
 public:
  scoped() = default;
  /// Takes over `handle`, made by `s`.
  scoped(const session& s, Handle handle) : session_(s.impl_), handle_(std::move(handle)) {}
  scoped(scoped&& other) noexcept
      : session_(std::move(other.session_)), handle_(std::move(other.handle_)) {}
  scoped& operator=(scoped&& other) noexcept {
    if (this != &other) {
      reset();
      session_ = std::move(other.session_);
      handle_ = std::move(other.handle_);
    }
    return *this;
  }
  ~scoped() { reset(); }

  /// Ends it now; afterwards this object owns nothing.
  void reset() noexcept {
    if (auto s = std::exchange(session_, {}).lock()) session::end_handle(*s, handle_);
  }
  /// Gives the handle back without ending it.
  Handle release() noexcept {
    session_.reset();
    return std::move(handle_);
  }
  /// The handle.
  const Handle& get() const noexcept { return handle_; }

 private:
  std::weak_ptr<detail::session_impl> session_;
  Handle handle_;
};

/// A subscription ended when its owner goes away.
using scoped_subscription = scoped<subscription>;
/// A registration ended when its owner goes away.
using scoped_registration = scoped<registration>;

template <typename Handler>
invocation_handler make_invocation_handler(Handler handler, boost::asio::any_io_executor ex) {
  if constexpr (std::is_invocable_v<Handler&, invocation, responder>) {
    return invocation_handler(std::move(handler));
  } else if constexpr (detail::returns_awaitable<Handler>()) {
    return [handler = std::move(handler), ex](invocation inv, responder r) mutable {
      boost::asio::co_spawn(ex, handler(std::move(inv)),
                            [r](std::exception_ptr e, call_result result) mutable {
                              if (e)
                                r.fail(e);
                              else
                                r.yield(std::move(result));
                            });
    };
  } else if constexpr (std::is_invocable_r_v<call_result, Handler&, const invocation&>) {
    return [handler = std::move(handler)](invocation inv, responder r) mutable {
      r.yield(handler(inv));  // exceptions propagate: the session turns them into ERROR
    };
  } else {
    return [handler = std::move(handler)](invocation inv, responder r) mutable {
      using result = typename detail::signature_of<Handler>::result;
      if constexpr (std::is_void_v<result>) {
        detail::call_typed(handler, inv.args);
        r.yield();
      } else {
        r.yield(detail::to_result(detail::call_typed(handler, inv.args)));
      }
    };
  }
}

}  // namespace wampbox
