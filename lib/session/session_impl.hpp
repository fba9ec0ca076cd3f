// wampbox — session internals: request bookkeeping, message dispatch, payload hook calls.
#pragma once

#include <wampbox/session/session.hpp>

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

namespace wampbox::detail {

/// One INVOCATION between its arrival and its answer (shared by all copies of a responder).
struct pending_invocation {
  std::weak_ptr<session_impl> session;
  wire::id request = 0;
  std::string procedure;
  codec::call_context context;
  bool receive_progress = false;
  bool answered = false;
  bool interrupted = false;
  /// Answers an invocation nobody answered, so the caller never waits forever.
  ~pending_invocation();
};

class session_impl : public std::enable_shared_from_this<session_impl> {
 public:
  using executor_type = boost::asio::any_io_executor;
  using done_handler = std::function<void(std::exception_ptr)>;

  explicit session_impl(executor_type executor) : executor_(std::move(executor)) {}

  executor_type executor_;
  std::shared_ptr<codec::payload_codec> codec_;
  event_error_handler event_error_;
  disconnect_handler disconnect_;
  welcome_info welcome_;

  enum class state { closed, connected, joining, joined, leaving };
  state state_ = state::closed;

  void connect(transport::transport_options options, done_handler cb);
  /// Starts using a connected transport (reading begins at once).
  void attach(std::shared_ptr<transport::transport> connected);
  void join(join_options options, std::function<void(std::exception_ptr, welcome_info)> cb);
  void leave(std::string reason, done_handler cb);
  void publish(std::string topic, value args, value kwargs, publish_options options,
               std::function<void(std::exception_ptr, std::optional<wire::id>)> cb);
  void subscribe(std::string topic, std::function<void(const event&)> handler,
                 subscribe_options options, std::function<void(std::exception_ptr, subscription)> cb);
  void unsubscribe(subscription sub, done_handler cb);
  wire::id call(std::string procedure, value args, value kwargs, call_options options,
                std::function<void(std::exception_ptr, call_result)> cb);
  void cancel_call(wire::id request);
  void enroll(std::string procedure, invocation_handler handler, register_options options,
              std::function<void(std::exception_ptr, registration)> cb);
  void unregister(registration reg, done_handler cb);

  /// Sends YIELD (final or progressive) for an invocation, through the payload hook.
  void answer_yield(pending_invocation& inv, call_result result, bool progress);
  /// Sends ERROR for an invocation, through the payload hook.
  void answer_error(pending_invocation& inv, std::string uri, value args, value kwargs);
  /// Closes the transport and fails everything pending with `reason` (nullptr: clean end).
  void end(std::exception_ptr reason);

 private:
  struct pending_subscribe {
    std::string topic;
    std::function<void(const event&)> handler;
    std::function<void(std::exception_ptr, subscription)> cb;
  };
  struct subscription_state {
    std::string topic;
    std::map<std::uint64_t, std::function<void(const event&)>> handlers;
  };
  struct pending_call {
    std::string procedure;
    std::function<void(std::exception_ptr, call_result)> cb;
    std::function<void(const call_result&)> on_progress;
    codec::call_context context;
  };
  struct pending_register {
    std::string procedure;
    invocation_handler handler;
    std::function<void(std::exception_ptr, registration)> cb;
  };
  struct registration_state {
    std::string procedure;
    invocation_handler handler;
  };

  wire::id next_request() noexcept { return next_request_++; }
  bool check_joined(const done_handler& refuse);
  /// Serializes and sends; `written` gets nullptr or the failure.
  void send(wire::message m, done_handler written);
  void send_quietly(wire::message m);
  /// A send completion that fails the request pending in `*pending` when the send failed.
  template <typename Map>
  done_handler fail_if_unsent(Map session_impl::*pending, wire::id request);
  void receive_next();
  void dispatch(wire::message&& m);
  void violation(const std::string& what);
  void report_event_error(const std::string& topic, std::exception_ptr e);

  void on_welcome(wire::welcome_message& m);
  void on_abort(wire::abort_message& m);
  void on_challenge(wire::challenge_message& m);
  void on_goodbye(wire::goodbye_message& m);
  void on_error(wire::error_message& m);
  void on_published(const wire::published_message& m);
  void on_subscribed(const wire::subscribed_message& m);
  void on_unsubscribed(const wire::unsubscribed_message& m);
  void on_event(wire::event_message& m);
  void on_result(wire::result_message& m);
  void on_registered(const wire::registered_message& m);
  void on_unregistered(const wire::unregistered_message& m);
  void on_invocation(wire::invocation_message& m);
  void on_interrupt(const wire::interrupt_message& m);

  std::shared_ptr<transport::transport> transport_;
  wire::id next_request_ = 1;
  join_options join_options_;
  std::function<void(std::exception_ptr, welcome_info)> join_cb_;
  done_handler leave_cb_;
  std::unique_ptr<boost::asio::steady_timer> leave_timer_;

  std::unordered_map<wire::id, std::function<void(std::exception_ptr, std::optional<wire::id>)>>
      publishes_;
  std::unordered_map<wire::id, pending_subscribe> subscribes_;
  std::unordered_map<wire::id, done_handler> unsubscribes_;
  std::unordered_map<wire::id, subscription_state> subscriptions_;
  /// The last event delivered: overlapping subscriptions receive one publication as several
  /// consecutive EVENTs, which must be decoded once (a replay-protecting codec refuses copies).
  std::optional<event> last_event_;
  std::uint64_t next_slot_ = 1;
  std::unordered_map<wire::id, pending_call> calls_;
  std::unordered_map<wire::id, pending_register> registers_;
  std::unordered_map<wire::id, done_handler> unregisters_;
  std::unordered_map<wire::id, registration_state> registrations_;
  std::unordered_map<wire::id, std::weak_ptr<pending_invocation>> invocations_;
};

}  // namespace wampbox::detail
