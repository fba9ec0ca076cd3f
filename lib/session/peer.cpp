// The peer: session state machine, transport, dispatch, joining and leaving, cancellation.
#include "session_impl.hpp"

#include "../transport/connect.hpp"

#include <wampbox/version.hpp>

#include <boost/asio/error.hpp>

namespace wampbox::detail {
namespace {

using wire::message_type;
namespace asio = boost::asio;

/// `host:port` (or the socket path) of a router URL, for messages.
std::string where(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto start = scheme + 3;
  if (url.compare(0, scheme, "unix") == 0) return url.substr(start);
  return url.substr(start, url.find('/', start) - start);
}

/// What a failed connect means for a user; `reason` is the transport's, when it gave one.
std::exception_ptr connect_error(boost::system::error_code ec, const std::string& reason,
                                 const std::string& url, std::chrono::milliseconds limit) {
  if (!reason.empty()) return make_error(ec, "cannot connect to " + url + ": " + reason);
  if (ec == asio::error::connection_refused)
    return make_error(ec, "connection refused by " + where(url));
  if (ec == asio::error::timed_out)
    return make_error(ec, "no transport handshake with " + where(url) + " within " +
                              std::to_string(limit.count()) + " ms");
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return make_error(ec, "unknown host in " + url);
  return make_error(ec, "cannot connect to " + url + ": " + ec.message());
}

std::exception_ptr canceled(boost::system::error_code why, std::chrono::milliseconds limit) {
  if (why == asio::error::timed_out)
    return make_error(why,
                      "no answer from the router within " + std::to_string(limit.count()) + " ms");
  return make_error(why, "operation canceled");
}

/// A role's HELLO features: its own, plus what the payload codec announces.
value role_features(value features, const value& codec_features) {
  for (auto& [name, v] : codec_features.items()) features[name] = v;
  return value{{"features", std::move(features)}};
}

}  // namespace

// ---------------------------------------------------------------- transport and I/O

operation_ref session_impl::connect(transport::transport_options options, done_handler cb) {
  if (released_ || state_ != state::closed) {
    cb(released_ ? make_error(errc::session_closed, "session closed")
                 : make_error(errc::already_joined, "session already connected"));
    return {};
  }
  state_ = state::connecting;
  connect_id_ = next_request();
  connect_cb_ = std::move(cb);
  connecting_ = std::make_shared<asio::cancellation_signal>();
  const auto limit = options.handshake_timeout;
  auto url = options.url;
  // The signal lives until the connector reported: it clears its slot before that.
  transport::detail::connect_with_reason(
      executor_, std::move(options),
      [weak = weak_from_this(), id = connect_id_, signal = connecting_, url, limit](
          boost::system::error_code ec, const std::string& reason,
          std::shared_ptr<transport::transport> t) {
        auto self = weak.lock();
        if (!self || self->connect_id_ != id || !self->connect_cb_) {
          if (t) t->close();  // canceled, or the session is gone: drop the half-made connection
          return;
        }
        self->connecting_.reset();
        auto done = std::exchange(self->connect_cb_, {});
        if (ec) {
          self->state_ = state::closed;
          done(connect_error(ec, reason, url, limit));
          return;
        }
        self->attach(std::move(t));
        done(nullptr);
      },
      connecting_->slot());
  return {operation_ref::kind::connect, connect_id_};
}

void session_impl::attach(std::shared_ptr<transport::transport> connected) {
  transport_ = std::move(connected);
  state_ = state::connected;
  receive_next();
}

std::exception_ptr session_impl::serialize(wire::message m, std::string& bytes) {
  if (!transport_) return make_error(errc::session_closed, "session closed");
  try {
    bytes = wire::serialize_message(transport_->serializer(), std::move(m));
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

std::exception_ptr session_impl::send_error(boost::system::error_code ec) {
  return make_error(ec, "cannot send to the router: " + ec.message());
}

void session_impl::send_quietly(wire::message m) {
  send(std::move(m), [](std::exception_ptr) {});
}

operation_ref session_impl::request(wire::id id, wire::message m, wire::message_type kind,
                                    request_completion complete, request_cleanup cleanup,
                                    std::chrono::milliseconds deadline) {
  requests_.add(id, kind, std::move(complete), std::move(cleanup));
  const operation_ref op{operation_ref::kind::request, id};
  const auto limit = deadline.count() > 0 ? deadline : timeout_;
  if (auto timer = deadline_for(op, limit)) requests_.set_deadline(id, std::move(timer));
  send(std::move(m), [weak = weak_from_this(), id](std::exception_ptr e) {
    if (!e) return;
    if (auto self = weak.lock()) self->requests_.fail(*self, id, e);
  });
  return op;
}

std::unique_ptr<asio::steady_timer> session_impl::deadline_for(operation_ref op,
                                                               std::chrono::milliseconds limit) {
  if (limit.count() <= 0) return nullptr;
  auto timer = std::make_unique<asio::steady_timer>(executor_, limit);
  timer->async_wait([weak = weak_from_this(), op, limit](boost::system::error_code ec) {
    if (ec) return;  // the operation completed: its timer was dropped
    if (auto self = weak.lock()) self->cancel(op, asio::error::timed_out, limit);
  });
  return timer;
}

void session_impl::receive_next() {
  transport_->async_receive(
      [self = shared_from_this(), t = transport_](boost::system::error_code ec, std::string bytes) {
        if (self->transport_ != t) return;  // a stale read of a transport already replaced
        if (ec) {
          self->end(make_error(ec, "connection to the router lost: " + ec.message()));
          return;
        }
        // Made from the parsed message: a default one would be a HELLO with its own Details.
        std::optional<wire::message> m;
        try {
          m.emplace(wire::parse_message(t->serializer(), bytes));
        } catch (const protocol_error& e) {
          self->violation(e.what());
          return;
        }
        self->dispatch(std::move(*m));
        if (self->transport_ == t) self->receive_next();
      });
}

void session_impl::violation(const std::string& what) {
  send_quietly(wire::abort_message{value{{"message", what}}, "wamp.error.protocol_violation", {}});
  end(make_error(errc::protocol_violation, what));
}

void session_impl::end(std::exception_ptr reason) {
  if (state_ == state::closed && !transport_) return;
  state_ = state::closed;
  const bool had_transport = transport_ != nullptr;
  if (transport_) transport_->close();
  transport_.reset();
  if (auto signal = std::exchange(connecting_, nullptr))
    signal->emit(asio::cancellation_type::terminal);
  join_deadline_.reset();
  leave_deadline_.reset();
  end_authentication();
  const auto failure = reason ? reason : make_error(errc::session_closed, "session closed");
  // Take everything pending first: completions may start new operations.
  auto connect_cb = std::exchange(connect_cb_, {});
  auto join_cb = std::exchange(join_cb_, {});
  auto leave_cb = std::exchange(leave_cb_, {});
  subscriptions_.clear();
  registrations_.clear();
  // No one to answer any more. The callee's handlers are told, unless the application let go
  // of the session (they may hold what it is destroying).
  for (auto& [id, weak] : std::exchange(invocations_, {})) {
    auto inv = weak.lock();
    if (!inv) continue;
    if (released_) inv->on_interrupt = nullptr;
    inv->interrupt();
  }
  if (connect_cb) connect_cb(failure);
  if (join_cb) join_cb(failure, {});
  if (leave_cb) leave_cb(reason);
  requests_.fail_all(*this, failure);
  if (had_transport && disconnect_) disconnect_(reason);
}

void session_impl::release() {
  released_ = true;
  end(nullptr);
  // The application's handlers may hold what the application is about to destroy.
  disconnect_ = nullptr;
  event_error_ = nullptr;
}

std::exception_ptr session_impl::refusal() const {
  if (state_ == state::joined) return nullptr;
  if (released_) return make_error(errc::session_closed, "session closed");
  return make_error(errc::not_joined, "session not joined");
}

void session_impl::cancel(operation_ref op, boost::system::error_code why,
                          std::chrono::milliseconds limit) {
  const auto failure = canceled(why, limit);
  switch (op.what) {
    case operation_ref::kind::none: return;
    case operation_ref::kind::request: requests_.abandon(*this, op.id, failure); return;
    case operation_ref::kind::connect: {
      if (op.id != connect_id_ || !connect_cb_) return;
      auto done = std::exchange(connect_cb_, {});
      if (auto signal = std::exchange(connecting_, nullptr))
        signal->emit(asio::cancellation_type::terminal);  // closes the half-made connection
      state_ = state::closed;
      done(failure);
      return;
    }
    case operation_ref::kind::join: {
      if (op.id != join_id_ || !join_cb_) return;
      auto done = std::exchange(join_cb_, {});
      send_quietly(wire::abort_message{
          value{{"message", "join canceled by the client"}}, "wamp.error.canceled", {}});
      end(failure);
      done(failure, {});
      return;
    }
    case operation_ref::kind::leave: {
      if (op.id != leave_id_ || !leave_cb_) return;
      auto done = std::exchange(leave_cb_, {});
      end(nullptr);  // GOODBYE went out: the session is over, only its answer is missing
      done(failure);
      return;
    }
  }
}

// ---------------------------------------------------------------- join and leave

operation_ref session_impl::join(join_options options, result_handler<welcome_info> cb) {
  if (released_ || state_ != state::connected) {
    cb(make_error(
           released_ || state_ == state::closed ? errc::session_closed : errc::already_joined,
           "join needs a connected, unjoined session"),
       {});
    return {};
  }
  const value extra = codec_->hello_features();
  value details = {{"agent", std::string("wampbox/") + version_string},
                   {"roles",
                    {{"publisher", role_features({{"publisher_exclusion", true},
                                                  {"publisher_identification", true},
                                                  {"subscriber_blackwhite_listing", true}},
                                                 extra)},
                     {"subscriber", role_features({{"pattern_based_subscription", true},
                                                   {"publisher_identification", true}},
                                                  extra)},
                     {"caller", role_features({{"progressive_call_results", true},
                                               {"call_canceling", true},
                                               {"call_timeout", true},
                                               {"caller_identification", true}},
                                              extra)},
                     {"callee", role_features({{"progressive_call_results", true},
                                               {"call_canceling", true},
                                               {"caller_identification", true},
                                               {"pattern_based_registration", true},
                                               {"shared_registration", true}},
                                              extra)}}}};
  try {
    start_authentication(options, details);
  } catch (...) {
    cb(std::current_exception(), {});
    return {};
  }
  state_ = state::joining;
  join_id_ = next_request();
  join_cb_ = std::move(cb);
  join_deadline_ = deadline_for({operation_ref::kind::join, join_id_}, timeout_);
  auto realm = options.realm;
  join_options_ = std::move(options);
  send(wire::hello_message{std::move(realm), std::move(details)},
       [weak = weak_from_this()](std::exception_ptr e) {
         if (!e) return;
         if (auto self = weak.lock()) self->end(e);
       });
  return {operation_ref::kind::join, join_id_};
}

void session_impl::on_welcome(wire::welcome_message& m) {
  if (state_ != state::joining) return violation("WELCOME outside of joining");
  if (auto refused = verify_welcome(m.details)) return end(refused);
  state_ = state::joined;
  join_deadline_.reset();
  welcome_ = {m.session, join_options_.realm, string_or(m.details, "authid", ""),
              string_or(m.details, "authrole", ""), std::move(m.details)};
  if (auto cb = std::exchange(join_cb_, {})) cb(nullptr, welcome_);
}

void session_impl::on_abort(wire::abort_message& m) {
  const auto code = state_ == state::joining && is_authentication_refusal(m.reason)
                        ? errc::authentication_failed
                        : errc::session_aborted;
  end(std::make_exception_ptr(wamp_error(m.reason, std::move(m.data.args), std::move(m.data.kwargs),
                                         code, string_or(m.details, "message", ""))));
}

operation_ref session_impl::leave(std::string reason, done_handler cb) {
  if (auto refused = refusal()) {
    cb(refused);
    return {};
  }
  state_ = state::leaving;
  leave_id_ = next_request();
  leave_cb_ = std::move(cb);
  send_quietly(wire::goodbye_message{value::object(), std::move(reason)});
  // A router that never answers GOODBYE must not keep us waiting, even without a timeout.
  const operation_ref op{operation_ref::kind::leave, leave_id_};
  leave_deadline_ =
      deadline_for(op, timeout_.count() > 0 ? timeout_ : std::chrono::milliseconds(5000));
  return op;
}

void session_impl::on_goodbye(wire::goodbye_message& m) {
  if (state_ == state::leaving) {
    end(nullptr);
    return;
  }
  send_quietly(wire::goodbye_message{value::object(), "wamp.close.goodbye_and_out"});
  end(std::make_exception_ptr(wamp_error(m.reason, nullptr, nullptr, errc::session_closed,
                                         string_or(m.details, "message", ""))));
}

// ---------------------------------------------------------------- dispatch

void session_impl::answer(wire::id request, wire::message_type kind, wire::message& m, bool final) {
  // False for an answer nobody waits for: that of a request canceled meanwhile.
  requests_.answer(*this, request, kind, m, final);
}

void session_impl::dispatch(wire::message&& m) {
  switch (wire::type_of(m)) {
    case message_type::welcome: return on_welcome(std::get<wire::welcome_message>(m));
    case message_type::abort: return on_abort(std::get<wire::abort_message>(m));
    case message_type::challenge: return on_challenge(std::get<wire::challenge_message>(m));
    case message_type::goodbye: return on_goodbye(std::get<wire::goodbye_message>(m));
    case message_type::error: {
      auto& e = std::get<wire::error_message>(m);
      switch (e.request_type) {
        case message_type::publish:
        case message_type::subscribe:
        case message_type::unsubscribe:
        case message_type::call:
        case message_type::register_:
        case message_type::unregister: return answer(e.request, e.request_type, m);
        default: return violation(std::string("ERROR for a ") + wire::message_name(e.request_type));
      }
    }
    case message_type::published:
      return answer(std::get<wire::published_message>(m).request, message_type::publish, m);
    case message_type::subscribed:
      return answer(std::get<wire::subscribed_message>(m).request, message_type::subscribe, m);
    case message_type::unsubscribed: {
      auto& u = std::get<wire::unsubscribed_message>(m);
      if (u.details) return on_subscription_revoked(*u.details);
      return answer(u.request, message_type::unsubscribe, m);
    }
    case message_type::result: {
      auto& r = std::get<wire::result_message>(m);
      return answer(r.request, message_type::call, m, !flag(r.details, "progress"));
    }
    case message_type::registered:
      return answer(std::get<wire::registered_message>(m).request, message_type::register_, m);
    case message_type::unregistered: {
      auto& u = std::get<wire::unregistered_message>(m);
      if (u.details) return on_registration_revoked(*u.details);
      return answer(u.request, message_type::unregister, m);
    }
    case message_type::event: return on_event(std::get<wire::event_message>(m));
    case message_type::invocation: return on_invocation(std::get<wire::invocation_message>(m));
    case message_type::interrupt: return on_interrupt(std::get<wire::interrupt_message>(m));
    default:
      return violation(std::string("a router never sends ") + wire::message_name(wire::type_of(m)));
  }
}

}  // namespace wampbox::detail
