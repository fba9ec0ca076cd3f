// wampbox — the one table of requests this client sent and still waits on.
#pragma once

#include <wampbox/wire/message.hpp>

#include <boost/asio/steady_timer.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <unordered_map>

namespace wampbox::detail {

class session_impl;

/// Completes a request: with the router's answer (`answer` set: the reply, possibly an ERROR)
/// or with the failure `error` (`answer` null). The session is passed in, so that entries
/// never hold a pointer to the session that owns the table.
using request_completion =
    std::function<void(session_impl& session, std::exception_ptr error, wire::message* answer)>;

/// Protocol cleanup for a request abandoned before its answer came (canceled, or past its
/// deadline); returns what to do with the answer if it still arrives (empty: nothing).
using request_cleanup = std::function<request_completion(session_impl& session)>;

/// Every request of every kind (PUBLISH with acknowledgement, SUBSCRIBE, UNSUBSCRIBE, CALL,
/// REGISTER, UNREGISTER): answering, failing, abandoning and timing out a request is one code
/// path each, whatever its kind.
class request_table {
 public:
  /// Starts waiting for the answer to request `id`, a message of kind `kind`.
  void add(wire::id id, wire::message_type kind, request_completion complete,
           request_cleanup cleanup = {});
  /// Bounds the wait: the timer is dropped (its wait canceled) with the request.
  void set_deadline(wire::id id, std::unique_ptr<boost::asio::steady_timer> timer);
  /// Hands `reply` to the request `id` of kind `kind` it answers; a non-`final` reply (a
  /// progressive RESULT) keeps the request waiting. False when no such request waits.
  bool answer(session_impl& session, wire::id id, wire::message_type kind, wire::message& reply,
              bool final = true);
  /// Fails one request (e.g. its message could not be sent, or its answer was refused).
  void fail(session_impl& session, wire::id id, std::exception_ptr error);
  /// Abandons one request: runs its cleanup, then completes it with `reason`. False when it
  /// was not waiting (already completed).
  bool abandon(session_impl& session, wire::id id, std::exception_ptr reason);
  /// Fails every request (the session ended); abandoned ones are forgotten.
  void fail_all(session_impl& session, std::exception_ptr error);

 private:
  struct entry {
    wire::message_type kind;
    request_completion complete;
    request_cleanup cleanup;
    bool abandoned = false;  ///< complete is then the cleanup's answer handler
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };
  std::unordered_map<wire::id, entry> entries_;
};

}  // namespace wampbox::detail
