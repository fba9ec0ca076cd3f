// wampbox — the reconnecting client's state machine (see include/wampbox/client/client.hpp).
//
// One session at a time, numbered by `generation_`: every completion and report of a session
// carries the generation it was made for and is ignored once the client moved on (a failed
// attempt, a lost session, leave, destruction), so a stale session can never touch the client.
#pragma once

#include <wampbox/client/client.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>

namespace wampbox::detail {

/// A type-erased completion handler of an operation completing with (error, T...).
template <typename... T>
using completion = boost::asio::any_completion_handler<void(std::exception_ptr, T...)>;

/// Completes `handler` with `args` on its associated executor (`fallback` without one), never
/// inside the calling function (which may be the handler's own cancellation handler); clears
/// its cancellation slot just before (Asio's rule).
template <typename Handler, typename... Args>
void complete_later(Handler handler, const boost::asio::any_io_executor& fallback, Args... args) {
  // Through `fallback` first: Boost 1.81 cannot post to an any_completion_executor.
  boost::asio::post(fallback, [handler = std::move(handler), fallback,
                               ... args = std::move(args)]() mutable {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.clear();
    auto ex = boost::asio::get_associated_executor(handler, fallback);
    boost::asio::dispatch(ex, [handler = std::move(handler), ... args = std::move(args)]() mutable {
      std::move(handler)(std::move(args)...);
    });
  });
}

/// A handler for a session operation that completes `done` (with its cancellation slot, so
/// that cancelling `done` cancels the session's operation). Why not `done` itself: the session
/// posts to a handler's executor, which Boost 1.81 cannot do for an any_completion_handler.
template <typename... T>
auto forward_to(completion<T...> done, const boost::asio::any_io_executor& ex) {
  auto slot = boost::asio::get_associated_cancellation_slot(done);
  return boost::asio::bind_cancellation_slot(
      slot, [done = std::move(done), ex](std::exception_ptr e, T... v) mutable {
        complete_later(std::move(done), ex, e, std::move(v)...);
      });
}

/// The exception for an error code with a message for users.
std::exception_ptr client_error(boost::system::error_code code, const std::string& what);

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  using executor_type = boost::asio::any_io_executor;

  client_impl(executor_type executor, client_options options);

  executor_type executor_;
  std::function<void(const welcome_info&)> on_connect_;
  std::function<void(std::exception_ptr)> on_disconnect_;
  std::function<void(const attempt_failure&)> on_attempt_failed_;

  /// Installs the event-error handler on the current session and every later one.
  void set_event_error(event_error_handler handler);
  bool connected() const noexcept { return phase_ == phase::up; }
  const welcome_info& welcome() const noexcept { return welcome_; }
  std::size_t waiting() const noexcept { return queue_.size(); }

  void run(completion<> handler);
  void wait_connected(completion<welcome_info> handler);
  void leave(std::string reason, completion<> handler);
  /// The client object let go (destroyed or assigned over): stops with session_closed and
  /// drops every handler of the application.
  void release();

  void publish(std::string topic, value args, value kwargs, publish_options options,
               completion<std::optional<wire::id>> handler);
  void call(std::string procedure, value args, value kwargs, call_options options,
            completion<call_result> handler);
  void subscribe(std::string topic, std::function<void(const event&)> handler,
                 subscribe_options options, completion<client_subscription> done);
  void unsubscribe(client_subscription sub, completion<> done);
  void enroll(std::string procedure, invocation_handler handler, register_options options,
              completion<client_registration> done);
  void unregister(client_registration reg, completion<> done);

 private:
  enum class phase {
    idle,         ///< never run
    connecting,   ///< an attempt is connecting or joining
    backing_off,  ///< waiting before the next attempt
    restoring,    ///< joined; subscriptions and registrations are being re-made
    up,           ///< joined and restored: operations go straight to the session
    stopped,      ///< left, gave up, run canceled or destroyed
  };
  /// A subscription or registration made through the client: what it takes to make it again
  /// on every session, and what it is on the current one.
  template <typename Handler, typename Options, typename Handle>
  struct enrolment {
    using handle_type = Handle;
    std::string uri;                   ///< topic or procedure
    std::shared_ptr<Handler> handler;  ///< one, whatever the session (its state is shared)
    Options options;
    std::optional<Handle> current;  ///< on the session of `generation`
    std::uint64_t generation = 0;
  };
  using subscription_entry =
      enrolment<std::function<void(const event&)>, subscribe_options, subscription>;
  using registration_entry = enrolment<invocation_handler, register_options, registration>;
  template <typename Entry>
  using entries = std::map<std::uint64_t, Entry> client_impl::*;

  /// An operation waiting for a session. `start` and `fail` share its handler: the one that
  /// runs first takes it.
  struct waiting_operation {
    std::uint64_t id = 0;
    std::chrono::steady_clock::time_point since;
    std::function<void(session&)> start;
    std::function<void(std::exception_ptr)> fail;
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };

  /// Runs `start(session, handler)` on the current session when connected; else queues it
  /// or fails `handler` with the reason.
  template <typename... T, typename Start>
  void submit(completion<T...> handler, Start start);
  /// Why an operation cannot run now (not connected: reconnecting, not running, stopped).
  std::exception_ptr refusal(bool queue_full = false) const;
  /// Completes the waiting operation `id` with `why` (operation_aborted, timed_out).
  void stop_waiting(std::uint64_t id, boost::system::error_code why);

  void attempt();
  void on_connected(std::uint64_t generation, std::exception_ptr error);
  void on_joined(std::uint64_t generation, std::exception_ptr error);
  void restore(std::uint64_t generation);
  /// One subscription or registration re-made (or not: `error`).
  void on_restored(std::uint64_t generation, std::exception_ptr error);
  /// Makes every entry of `which` again on the session of `generation`.
  template <typename Entry>
  void restore_all(entries<Entry> which, std::uint64_t generation);
  /// subscribe and register: makes `entry` on the session (now or from the queue), then keeps it.
  template <typename ClientHandle, typename Entry>
  void enrol_new(entries<Entry> which, Entry entry, completion<ClientHandle> done);
  /// unsubscribe and unregister: forgets entry `id`, ends it on the router when connected.
  template <typename Entry>
  void withdraw_entry(entries<Entry> which, std::uint64_t id, completion<> done,
                      const char* no_such_uri);
  void up(std::uint64_t generation);
  /// The session of `generation` ended (reported by the session's on_disconnect).
  void on_lost(std::uint64_t generation, std::exception_ptr reason);
  /// The attempt with the session of `generation` failed: back off, or give up.
  void on_failed(std::uint64_t generation, std::exception_ptr error);
  /// Stops for good: `run_result` completes async_run, `pending_failure` what still waits.
  void stop(std::exception_ptr run_result, std::exception_ptr pending_failure);

  client_options options_;
  event_error_handler on_event_error_;
  phase phase_ = phase::idle;
  bool released_ = false;
  std::uint64_t generation_ = 0;
  std::optional<session> session_;
  welcome_info welcome_;
  std::size_t router_ = 0;              ///< index of the router the current or next attempt uses
  std::size_t failures_ = 0;            ///< consecutive failed attempts
  std::exception_ptr stopped_because_;  ///< what a stopped client answers
  std::minstd_rand random_{std::random_device{}()};
  boost::asio::steady_timer backoff_timer_;
  std::size_t restores_left_ = 0;
  std::exception_ptr restore_error_;

  std::optional<completion<>> run_;
  std::map<std::uint64_t, completion<welcome_info>> connect_waiters_;
  std::deque<waiting_operation> queue_;
  std::map<std::uint64_t, subscription_entry> subscriptions_;
  std::map<std::uint64_t, registration_entry> registrations_;
  std::uint64_t next_id_ = 1;  ///< numbers handles, waiting operations and connect waiters
};

}  // namespace wampbox::detail
