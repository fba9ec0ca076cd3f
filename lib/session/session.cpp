#include "session_impl.hpp"

#include <wampbox/version.hpp>

#include <boost/asio/error.hpp>

#include <iostream>

namespace wampbox {
namespace detail {
namespace {

using wire::message_type;

std::exception_ptr make_error(boost::system::error_code ec, const std::string& what) {
  return std::make_exception_ptr(error(ec, what));
}

std::exception_ptr make_error(errc code, const std::string& what) {
  return make_error(make_error_code(code), what);
}

const char* match_name(match_policy m) {
  switch (m) {
    case match_policy::prefix: return "prefix";
    case match_policy::wildcard: return "wildcard";
    case match_policy::exact: break;
  }
  return "exact";
}

/// Options object from the user's extra options (an object, or null for none).
value options_from(const value& extra) {
  if (extra.is_null()) return value::object();
  if (!extra.is_object()) throw error(errc::invalid_message, "extra options must be an object");
  return extra;
}

/// Validates the payload the application hands over and makes it a wire payload.
wire::payload payload_from(value args, value kwargs) {
  if (!args.is_null() && !args.is_array())
    throw error(errc::invalid_message, "args must be an array or null");
  if (!kwargs.is_null() && !kwargs.is_object())
    throw error(errc::invalid_message, "kwargs must be an object or null");
  return {std::move(args), std::move(kwargs), std::nullopt};
}

/// Without a payload codec an opaque payload is handed over as the single binary argument,
/// so a client without keys sees exactly what the router saw.
void expose_opaque(wire::payload& data) {
  if (!data.opaque) return;
  data.args = value::array({make_binary(std::move(*data.opaque))});
  data.kwargs = nullptr;
  data.opaque.reset();
}

std::string string_or(const value& details, const char* key, const std::string& fallback) {
  if (details.is_object()) {
    auto it = details.find(key);
    if (it != details.end() && it->is_string()) return it->get<std::string>();
  }
  return fallback;
}

bool flag(const value& details, const char* key) {
  if (!details.is_object()) return false;
  auto it = details.find(key);
  return it != details.end() && it->is_boolean() && it->get<bool>();
}

value role_features(bool encryption, value features) {
  if (encryption) {
    features["payload_transparency"] = true;
    features["payload_encryption_cryptobox"] = true;
  }
  return value{{"features", std::move(features)}};
}

/// Fails one pending request, whatever its kind.
template <typename Pending>
void fail(Pending& pending, std::exception_ptr e) {
  if constexpr (requires { pending.cb; })
    pending.cb(e, {});
  else if constexpr (std::is_invocable_v<Pending&, std::exception_ptr>)
    pending(e);
  else
    pending(e, {});
}

/// SUBSCRIBE/REGISTER options: the user's extra options plus the match policy.
value match_options(match_policy match, const value& extra) {
  value opts = options_from(extra);
  if (match != match_policy::exact) opts["match"] = match_name(match);
  return opts;
}

}  // namespace

template <typename Map>
session_impl::done_handler session_impl::fail_if_unsent(Map session_impl::*pending,
                                                        wire::id request) {
  return [self = shared_from_this(), pending, request](std::exception_ptr e) {
    if (!e) return;
    if (auto node = ((*self).*pending).extract(request)) fail(node.mapped(), e);
  };
}

pending_invocation::~pending_invocation() {
  if (answered || interrupted) return;
  if (auto s = session.lock()) {
    try {
      s->answer_error(*this, "wamp.error.runtime_error",
                      value::array({"invocation dropped without an answer"}), nullptr);
    } catch (...) {  // a destructor must not throw; the session has ended anyway
    }
  }
}

// ---------------------------------------------------------------- transport and I/O

void session_impl::connect(transport::transport_options options, done_handler cb) {
  if (state_ != state::closed) {
    cb(make_error(errc::already_joined, "session already connected"));
    return;
  }
  state_ = state::connected;  // reserves the session while connecting
  transport::connect(executor_, std::move(options),
                     [self = shared_from_this(), cb](boost::system::error_code ec,
                                                     std::shared_ptr<transport::transport> t) {
                       if (ec) {
                         self->state_ = state::closed;
                         cb(make_error(ec, "connect"));
                         return;
                       }
                       self->attach(std::move(t));
                       cb(nullptr);
                     });
}

void session_impl::attach(std::shared_ptr<transport::transport> connected) {
  transport_ = std::move(connected);
  state_ = state::connected;
  receive_next();
}

void session_impl::send(wire::message m, done_handler written) {
  if (!transport_) {
    written(make_error(errc::session_closed, "session closed"));
    return;
  }
  std::string bytes;
  try {
    bytes = wire::serialize_message(transport_->serializer(), std::move(m));
  } catch (...) {
    written(std::current_exception());
    return;
  }
  transport_->async_send(std::move(bytes), [written = std::move(written)](
                                               boost::system::error_code ec) {
    written(ec ? make_error(ec, "send") : nullptr);
  });
}

void session_impl::send_quietly(wire::message m) {
  send(std::move(m), [](std::exception_ptr) {});  // a lost transport ends the session anyway
}

void session_impl::receive_next() {
  transport_->async_receive([self = shared_from_this(), t = transport_](
                                boost::system::error_code ec, std::string bytes) {
    if (self->transport_ != t) return;  // a stale read of a transport already replaced
    if (ec) {
      self->end(make_error(ec, "transport"));
      return;
    }
    wire::message m;
    try {
      m = wire::parse_message(t->serializer(), bytes);
    } catch (const protocol_error& e) {
      self->violation(e.what());
      return;
    }
    self->dispatch(std::move(m));
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
  if (transport_) transport_->close();
  transport_.reset();
  leave_timer_.reset();
  const auto failure = reason ? reason : make_error(errc::session_closed, "session closed");
  // Take everything pending first: completions may start new operations.
  auto join_cb = std::exchange(join_cb_, nullptr);
  auto leave_cb = std::exchange(leave_cb_, nullptr);
  auto publishes = std::exchange(publishes_, {});
  auto subscribes = std::exchange(subscribes_, {});
  auto unsubscribes = std::exchange(unsubscribes_, {});
  auto calls = std::exchange(calls_, {});
  auto registers = std::exchange(registers_, {});
  auto unregisters = std::exchange(unregisters_, {});
  subscriptions_.clear();
  last_event_.reset();
  registrations_.clear();
  for (auto& [id, weak] : std::exchange(invocations_, {}))
    if (auto inv = weak.lock()) inv->interrupted = true;  // no one to answer any more
  if (join_cb) join_cb(failure, {});
  if (leave_cb) leave_cb(reason);
  auto fail_all = [&failure](auto& pending) {
    for (auto& [id, p] : pending) fail(p, failure);
  };
  fail_all(publishes);
  fail_all(subscribes);
  fail_all(unsubscribes);
  fail_all(calls);
  fail_all(registers);
  fail_all(unregisters);
  if (disconnect_) disconnect_(reason);
}

bool session_impl::check_joined(const done_handler& refuse) {
  if (state_ == state::joined) return true;
  refuse(make_error(errc::not_joined, "session not joined"));
  return false;
}

// ---------------------------------------------------------------- join and leave

void session_impl::join(join_options options,
                        std::function<void(std::exception_ptr, welcome_info)> cb) {
  if (state_ != state::connected) {
    cb(make_error(state_ == state::closed ? errc::session_closed : errc::already_joined,
                  "join needs a connected, unjoined session"),
       {});
    return;
  }
  const bool enc = codec_ != nullptr;
  value details = {
      {"agent", std::string("wampbox/") + version_string},
      {"roles",
       {{"publisher", role_features(enc, {{"publisher_exclusion", true},
                                          {"publisher_identification", true}})},
        {"subscriber", role_features(enc, {{"pattern_based_subscription", true}})},
        {"caller", role_features(enc, {{"progressive_call_results", true},
                                       {"call_canceling", true},
                                       {"call_timeout", true},
                                       {"caller_identification", true}})},
        {"callee", role_features(enc, {{"progressive_call_results", true},
                                       {"call_canceling", true},
                                       {"pattern_based_registration", true}})}}}};
  if (!options.authid.empty()) details["authid"] = options.authid;
  if (!options.authmethods.empty()) details["authmethods"] = options.authmethods;
  if (!options.authextra.is_null()) details["authextra"] = options.authextra;
  state_ = state::joining;
  join_cb_ = std::move(cb);
  auto realm = options.realm;
  join_options_ = std::move(options);
  send(wire::hello_message{std::move(realm), std::move(details)},
       [self = shared_from_this()](std::exception_ptr e) {
         if (e) self->end(e);
       });
}

void session_impl::on_welcome(wire::welcome_message& m) {
  if (state_ != state::joining) return violation("WELCOME outside of joining");
  state_ = state::joined;
  welcome_ = {m.session, join_options_.realm, string_or(m.details, "authid", ""),
              string_or(m.details, "authrole", ""), std::move(m.details)};
  join_options_.on_challenge = nullptr;  // drop credentials captured by the callback
  if (auto cb = std::exchange(join_cb_, nullptr)) cb(nullptr, welcome_);
}

void session_impl::on_abort(wire::abort_message& m) {
  end(std::make_exception_ptr(wamp_error(m.reason, std::move(m.data.args),
                                         std::move(m.data.kwargs), errc::session_aborted)));
}

void session_impl::on_challenge(wire::challenge_message& m) {
  if (state_ != state::joining) return violation("CHALLENGE outside of joining");
  std::string signature;
  try {
    if (!join_options_.on_challenge)
      throw error(errc::authentication_failed,
                  "router asks for authentication method '" + m.auth_method +
                      "' but no on_challenge handler is set");
    signature = join_options_.on_challenge(challenge{m.auth_method, m.extra});
  } catch (...) {
    send_quietly(wire::abort_message{value::object(), "wamp.error.cannot_authenticate", {}});
    auto failure = std::current_exception();
    try {
      std::rethrow_exception(failure);
    } catch (const error&) {
    } catch (const std::exception& e) {
      failure = make_error(errc::authentication_failed, e.what());
    }
    end(failure);
    return;
  }
  send_quietly(wire::authenticate_message{std::move(signature), value::object()});
}

void session_impl::leave(std::string reason, done_handler cb) {
  if (!check_joined(cb)) return;
  state_ = state::leaving;
  leave_cb_ = std::move(cb);
  send_quietly(wire::goodbye_message{value::object(), std::move(reason)});
  // A router that never answers GOODBYE must not keep us waiting.
  leave_timer_ = std::make_unique<boost::asio::steady_timer>(executor_, std::chrono::seconds(5));
  leave_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->end(nullptr);
  });
}

void session_impl::on_goodbye(wire::goodbye_message& m) {
  if (state_ == state::leaving) {
    end(nullptr);
    return;
  }
  send_quietly(wire::goodbye_message{value::object(), "wamp.close.goodbye_and_out"});
  end(std::make_exception_ptr(wamp_error(m.reason, nullptr, nullptr, errc::session_closed)));
}

// ---------------------------------------------------------------- dispatch

void session_impl::dispatch(wire::message&& m) {
  switch (wire::type_of(m)) {
    case message_type::welcome: return on_welcome(std::get<wire::welcome_message>(m));
    case message_type::abort: return on_abort(std::get<wire::abort_message>(m));
    case message_type::challenge: return on_challenge(std::get<wire::challenge_message>(m));
    case message_type::goodbye: return on_goodbye(std::get<wire::goodbye_message>(m));
    case message_type::error: return on_error(std::get<wire::error_message>(m));
    case message_type::published: return on_published(std::get<wire::published_message>(m));
    case message_type::subscribed: return on_subscribed(std::get<wire::subscribed_message>(m));
    case message_type::unsubscribed:
      return on_unsubscribed(std::get<wire::unsubscribed_message>(m));
    case message_type::event: return on_event(std::get<wire::event_message>(m));
    case message_type::result: return on_result(std::get<wire::result_message>(m));
    case message_type::registered: return on_registered(std::get<wire::registered_message>(m));
    case message_type::unregistered:
      return on_unregistered(std::get<wire::unregistered_message>(m));
    case message_type::invocation: return on_invocation(std::get<wire::invocation_message>(m));
    case message_type::interrupt: return on_interrupt(std::get<wire::interrupt_message>(m));
    default:
      return violation(std::string("a router never sends ") +
                       wire::message_name(wire::type_of(m)));
  }
}

void session_impl::on_error(wire::error_message& m) {
  auto as_exception = [&m] {
    return std::make_exception_ptr(
        wamp_error(m.error, std::move(m.data.args), std::move(m.data.kwargs)));
  };
  auto take = [&m](auto& pending) {
    auto node = pending.extract(m.request);
    return node ? std::optional(std::move(node.mapped())) : std::nullopt;
  };
  switch (m.request_type) {
    case message_type::publish:
      if (auto cb = take(publishes_)) (*cb)(as_exception(), std::nullopt);
      return;
    case message_type::subscribe:
      if (auto p = take(subscribes_)) p->cb(as_exception(), {});
      return;
    case message_type::unsubscribe:
      if (auto cb = take(unsubscribes_)) (*cb)(as_exception());
      return;
    case message_type::register_:
      if (auto r = take(registers_)) r->cb(as_exception(), {});
      return;
    case message_type::unregister:
      if (auto cb = take(unregisters_)) (*cb)(as_exception());
      return;
    case message_type::call: {
      auto c = take(calls_);
      if (!c) return;  // e.g. the ERROR that follows our own CANCEL
      if (codec_) {
        try {
          codec_->decode(codec::payload_kind::result_error, m.error, m.details, m.data,
                         c->context);
        } catch (...) {
          c->cb(std::current_exception(), {});
          return;
        }
      } else {
        expose_opaque(m.data);
      }
      c->cb(as_exception(), {});
      return;
    }
    default:
      return violation(std::string("ERROR for a ") + wire::message_name(m.request_type));
  }
}

void session_impl::report_event_error(const std::string& topic, std::exception_ptr e) {
  if (event_error_) {
    event_error_(topic, e);
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {  // the message never contains payload data
    std::cerr << "wampbox: event on '" << topic << "' not delivered: " << ex.what() << '\n';
  } catch (...) {
    std::cerr << "wampbox: event on '" << topic << "' not delivered\n";
  }
}

// ---------------------------------------------------------------- publisher and subscriber

void session_impl::publish(std::string topic, value args, value kwargs, publish_options options,
                           std::function<void(std::exception_ptr, std::optional<wire::id>)> cb) {
  auto refuse = [&cb](std::exception_ptr e) { cb(e, std::nullopt); };
  if (!check_joined(refuse)) return;
  wire::publish_message msg;
  try {
    msg.options = options_from(options.extra);
    if (options.acknowledge) msg.options["acknowledge"] = true;
    if (!options.exclude_me) msg.options["exclude_me"] = false;
    if (options.disclose_me) msg.options["disclose_me"] = true;
    msg.data = payload_from(std::move(args), std::move(kwargs));
    codec::call_context context;
    if (codec_) codec_->encode(codec::payload_kind::publish, topic, msg.options, msg.data, context);
  } catch (...) {
    return refuse(std::current_exception());
  }
  msg.request = next_request();
  msg.topic = std::move(topic);
  const auto request = msg.request;
  if (!options.acknowledge) {
    send(std::move(msg), [cb](std::exception_ptr e) { cb(e, std::nullopt); });
    return;
  }
  publishes_.emplace(request, std::move(cb));
  send(std::move(msg), fail_if_unsent(&session_impl::publishes_, request));
}

void session_impl::on_published(const wire::published_message& m) {
  if (auto node = publishes_.extract(m.request)) node.mapped()(nullptr, m.publication);
}

void session_impl::subscribe(std::string topic, std::function<void(const event&)> handler,
                             subscribe_options options,
                             std::function<void(std::exception_ptr, subscription)> cb) {
  auto refuse = [&cb](std::exception_ptr e) { cb(e, {}); };
  if (!check_joined(refuse)) return;
  value opts;
  try {
    opts = match_options(options.match, options.extra);
  } catch (...) {
    return refuse(std::current_exception());
  }
  const auto request = next_request();
  subscribes_.emplace(request, pending_subscribe{topic, std::move(handler), std::move(cb)});
  send(wire::subscribe_message{request, std::move(opts), std::move(topic)},
       fail_if_unsent(&session_impl::subscribes_, request));
}

void session_impl::on_subscribed(const wire::subscribed_message& m) {
  auto node = subscribes_.extract(m.request);
  if (!node) return;
  auto& p = node.mapped();
  auto& state = subscriptions_[m.subscription];
  state.topic = p.topic;
  const auto slot = next_slot_++;
  state.handlers.emplace(slot, std::move(p.handler));
  p.cb(nullptr, subscription{m.subscription, slot, p.topic});
}

void session_impl::unsubscribe(subscription sub, done_handler cb) {
  if (!check_joined(cb)) return;
  auto it = subscriptions_.find(sub.id);
  if (it == subscriptions_.end() || it->second.handlers.erase(sub.slot) == 0) {
    cb(std::make_exception_ptr(wamp_error("wamp.error.no_such_subscription")));
    return;
  }
  if (!it->second.handlers.empty()) {
    cb(nullptr);  // other handlers still use the router's subscription
    return;
  }
  subscriptions_.erase(it);
  const auto request = next_request();
  unsubscribes_.emplace(request, std::move(cb));
  send(wire::unsubscribe_message{request, sub.id},
       fail_if_unsent(&session_impl::unsubscribes_, request));
}

void session_impl::on_unsubscribed(const wire::unsubscribed_message& m) {
  if (m.details) {  // the router revoked a subscription
    if (m.details->contains("subscription") && (*m.details)["subscription"].is_number_unsigned())
      subscriptions_.erase((*m.details)["subscription"].get<wire::id>());
    return;
  }
  if (auto node = unsubscribes_.extract(m.request)) node.mapped()(nullptr);
}

void session_impl::on_event(wire::event_message& m) {
  auto it = subscriptions_.find(m.subscription);
  if (it == subscriptions_.end()) return;  // in flight while we unsubscribed
  event ev;
  const auto topic = string_or(m.details, "topic", it->second.topic);
  if (last_event_ && last_event_->publication == m.publication && last_event_->topic == topic) {
    ev = *last_event_;  // the same publication through another subscription
  } else {
    ev.topic = topic;
    ev.publication = m.publication;
    if (codec_) {
      codec::call_context context;
      try {
        codec_->decode(codec::payload_kind::event, ev.topic, m.details, m.data, context);
      } catch (...) {
        return report_event_error(ev.topic, std::current_exception());
      }
      ev.encrypted = context.encrypted;
    } else {
      expose_opaque(m.data);
    }
    ev.args = std::move(m.data.args);
    ev.kwargs = std::move(m.data.kwargs);
  }
  ev.subscription = m.subscription;
  ev.details = std::move(m.details);
  // Copy: a handler may unsubscribe (and so modify the map) while we iterate.
  auto handlers = it->second.handlers;
  for (auto& [slot, handler] : handlers) {
    try {
      handler(ev);
    } catch (...) {
      report_event_error(ev.topic, std::current_exception());
    }
  }
  last_event_ = std::move(ev);
}

// ---------------------------------------------------------------- caller

wire::id session_impl::call(std::string procedure, value args, value kwargs, call_options options,
                            std::function<void(std::exception_ptr, call_result)> cb) {
  auto refuse = [&cb](std::exception_ptr e) { cb(e, {}); };
  if (!check_joined(refuse)) return 0;
  wire::call_message msg;
  codec::call_context context;
  try {
    msg.options = options_from(options.extra);
    if (options.timeout.count() > 0) msg.options["timeout"] = options.timeout.count();
    if (options.disclose_me) msg.options["disclose_me"] = true;
    if (options.on_progress) msg.options["receive_progress"] = true;
    msg.data = payload_from(std::move(args), std::move(kwargs));
    if (codec_) codec_->encode(codec::payload_kind::call, procedure, msg.options, msg.data, context);
  } catch (...) {
    refuse(std::current_exception());
    return 0;
  }
  msg.request = next_request();
  msg.procedure = procedure;
  const auto request = msg.request;
  calls_.emplace(request, pending_call{std::move(procedure), std::move(cb),
                                       std::move(options.on_progress), std::move(context)});
  send(std::move(msg), fail_if_unsent(&session_impl::calls_, request));
  return request;
}

void session_impl::cancel_call(wire::id request) {
  auto node = calls_.extract(request);
  if (!node) return;
  send_quietly(wire::cancel_message{request, value{{"mode", "kill"}}});
  node.mapped().cb(make_error(boost::asio::error::operation_aborted, "call canceled"), {});
}

void session_impl::on_result(wire::result_message& m) {
  auto it = calls_.find(m.request);
  if (it == calls_.end()) return;  // canceled meanwhile
  const bool progress = flag(m.details, "progress");
  call_result result;
  if (codec_) {
    try {
      codec_->decode(codec::payload_kind::result, it->second.procedure, m.details, m.data,
                     it->second.context);
    } catch (...) {
      auto cb = std::move(it->second.cb);
      calls_.erase(it);
      cb(std::current_exception(), {});
      return;
    }
    result.encrypted = it->second.context.encrypted;
  } else {
    expose_opaque(m.data);
  }
  result.args = std::move(m.data.args);
  result.kwargs = std::move(m.data.kwargs);
  result.details = std::move(m.details);
  if (progress) {
    if (auto on_progress = it->second.on_progress) on_progress(result);
    return;
  }
  auto cb = std::move(it->second.cb);
  calls_.erase(it);
  cb(nullptr, std::move(result));
}

// ---------------------------------------------------------------- callee

void session_impl::enroll(std::string procedure, invocation_handler handler,
                          register_options options,
                          std::function<void(std::exception_ptr, registration)> cb) {
  auto refuse = [&cb](std::exception_ptr e) { cb(e, {}); };
  if (!check_joined(refuse)) return;
  value opts;
  try {
    opts = match_options(options.match, options.extra);
  } catch (...) {
    return refuse(std::current_exception());
  }
  const auto request = next_request();
  registers_.emplace(request, pending_register{procedure, std::move(handler), std::move(cb)});
  send(wire::register_message{request, std::move(opts), std::move(procedure)},
       fail_if_unsent(&session_impl::registers_, request));
}

void session_impl::on_registered(const wire::registered_message& m) {
  auto node = registers_.extract(m.request);
  if (!node) return;
  auto& r = node.mapped();
  registrations_[m.registration] = {r.procedure, std::move(r.handler)};
  r.cb(nullptr, registration{m.registration, r.procedure});
}

void session_impl::unregister(registration reg, done_handler cb) {
  if (!check_joined(cb)) return;
  if (registrations_.erase(reg.id) == 0) {
    cb(std::make_exception_ptr(wamp_error("wamp.error.no_such_registration")));
    return;
  }
  const auto request = next_request();
  unregisters_.emplace(request, std::move(cb));
  send(wire::unregister_message{request, reg.id},
       fail_if_unsent(&session_impl::unregisters_, request));
}

void session_impl::on_unregistered(const wire::unregistered_message& m) {
  if (m.details) {  // the router revoked a registration
    if (m.details->contains("registration") && (*m.details)["registration"].is_number_unsigned())
      registrations_.erase((*m.details)["registration"].get<wire::id>());
    return;
  }
  if (auto node = unregisters_.extract(m.request)) node.mapped()(nullptr);
}

void session_impl::on_invocation(wire::invocation_message& m) {
  auto it = registrations_.find(m.registration);
  if (it == registrations_.end()) {
    send_quietly(wire::error_message{message_type::invocation, m.request, value::object(),
                                     "wamp.error.no_such_registration", {}});
    return;
  }
  auto state = std::make_shared<pending_invocation>();
  state->session = weak_from_this();
  state->request = m.request;
  state->procedure = string_or(m.details, "procedure", it->second.procedure);
  state->receive_progress = flag(m.details, "receive_progress");
  if (codec_) {
    try {
      codec_->decode(codec::payload_kind::invocation, state->procedure, m.details, m.data,
                     state->context);
    } catch (const payload_error& e) {
      // Refusal carries no payload, so it cannot leak anything in plaintext.
      state->answered = true;
      send_quietly(wire::error_message{message_type::invocation, m.request, value::object(),
                                       e.uri(), {value::array({e.what()}), nullptr, {}}});
      return;
    }
  } else {
    expose_opaque(m.data);
  }
  invocation inv{state->procedure, m.registration, m.request, std::move(m.data.args),
                 std::move(m.data.kwargs), std::move(m.details), state->context.encrypted};
  invocations_[m.request] = state;
  auto handler = it->second.handler;  // the handler may unregister itself
  responder r(std::move(state));
  try {
    handler(std::move(inv), r);
  } catch (...) {
    r.fail(std::current_exception());
  }
}

void session_impl::on_interrupt(const wire::interrupt_message& m) {
  auto node = invocations_.extract(m.request);
  if (!node) return;
  if (auto inv = node.mapped().lock(); inv && !inv->answered) {
    inv->interrupted = true;
    send_quietly(wire::error_message{message_type::invocation, m.request, value::object(),
                                     "wamp.error.canceled", {}});
  }
}

void session_impl::answer_yield(pending_invocation& inv, call_result result, bool progress) {
  if (inv.answered || inv.interrupted || (progress && !inv.receive_progress)) return;
  if (!progress) {
    inv.answered = true;
    invocations_.erase(inv.request);
  }
  wire::yield_message msg{inv.request, std::move(result.details), {}};
  try {
    msg.options = options_from(msg.options);
    if (progress) msg.options["progress"] = true;
    msg.data = payload_from(std::move(result.args), std::move(result.kwargs));
    if (codec_) codec_->encode(codec::payload_kind::yield, inv.procedure, msg.options, msg.data,
                               inv.context);
  } catch (...) {
    // Never answer in plaintext what must be encrypted: report the failure instead.
    inv.answered = false;
    try {
      throw;
    } catch (const payload_error& e) {
      answer_error(inv, e.uri(), value::array({e.what()}), nullptr);
    } catch (const std::exception& e) {
      answer_error(inv, "wamp.error.invalid_argument", value::array({e.what()}), nullptr);
    }
    return;
  }
  send_quietly(std::move(msg));
}

void session_impl::answer_error(pending_invocation& inv, std::string uri, value args,
                                value kwargs) {
  if (inv.answered || inv.interrupted) return;
  inv.answered = true;
  invocations_.erase(inv.request);
  wire::error_message msg{message_type::invocation, inv.request, value::object(), std::move(uri),
                          {}};
  try {
    msg.data = payload_from(std::move(args), std::move(kwargs));
    if (codec_) codec_->encode(codec::payload_kind::call_error, msg.error, msg.details, msg.data,
                               inv.context);
  } catch (const payload_error& e) {
    msg = wire::error_message{message_type::invocation, inv.request, value::object(), e.uri(),
                              {}};  // without the payload that could not be protected
  } catch (const std::exception& e) {
    msg.data = {value::array({e.what()}), nullptr, {}};
  }
  send_quietly(std::move(msg));
}

}  // namespace detail

// ---------------------------------------------------------------- responder

void responder::yield(call_result result) {
  if (auto s = state_->session.lock()) s->answer_yield(*state_, std::move(result), false);
}

void responder::progress(call_result result) {
  if (auto s = state_->session.lock()) s->answer_yield(*state_, std::move(result), true);
}

void responder::error(std::string uri, value args, value kwargs) {
  if (auto s = state_->session.lock())
    s->answer_error(*state_, std::move(uri), std::move(args), std::move(kwargs));
}

void responder::fail(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const wamp_error& e) {
    error(e.uri(), e.args(), e.kwargs());
  } catch (const payload_error& e) {
    error(e.uri(), value::array({e.what()}));
  } catch (const std::exception& e) {
    error("wamp.error.runtime_error", value::array({e.what()}));
  } catch (...) {
    error("wamp.error.runtime_error", value::array({"unknown exception"}));
  }
}

bool responder::interrupted() const noexcept { return state_->interrupted; }
bool responder::answered() const noexcept { return state_->answered; }

// ---------------------------------------------------------------- session

session::session(executor_type executor)
    : impl_(std::make_shared<detail::session_impl>(std::move(executor))) {}

session::~session() {
  if (impl_) impl_->end(nullptr);
}

session::session(session&&) noexcept = default;

session& session::operator=(session&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->end(nullptr);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

session::executor_type session::get_executor() const { return impl_->executor_; }

void session::set_payload_codec(std::shared_ptr<codec::payload_codec> codec) {
  impl_->codec_ = std::move(codec);
}

void session::on_event_error(event_error_handler handler) {
  impl_->event_error_ = std::move(handler);
}

void session::on_disconnect(disconnect_handler handler) { impl_->disconnect_ = std::move(handler); }

bool session::is_joined() const noexcept {
  return impl_->state_ == detail::session_impl::state::joined;
}

const welcome_info& session::welcome() const noexcept { return impl_->welcome_; }

void session::cancel_on(boost::asio::cancellation_slot slot, wire::id request) {
  slot.assign([weak = std::weak_ptr(impl_), request](boost::asio::cancellation_type) {
    if (auto impl = weak.lock()) impl->cancel_call(request);
  });
}

void session::do_connect(transport::transport_options options,
                         std::function<void(std::exception_ptr)> cb) {
  impl_->connect(std::move(options), std::move(cb));
}

void session::attach(std::shared_ptr<transport::transport> connected) {
  if (impl_->state_ != detail::session_impl::state::closed)
    throw error(errc::already_joined, "session already has a transport");
  impl_->attach(std::move(connected));
}

void session::do_join(join_options options,
                      std::function<void(std::exception_ptr, welcome_info)> cb) {
  impl_->join(std::move(options), std::move(cb));
}

void session::do_leave(std::string reason, std::function<void(std::exception_ptr)> cb) {
  impl_->leave(std::move(reason), std::move(cb));
}

void session::do_publish(std::string topic, value args, value kwargs, publish_options options,
                         std::function<void(std::exception_ptr, std::optional<wire::id>)> cb) {
  impl_->publish(std::move(topic), std::move(args), std::move(kwargs), std::move(options),
                 std::move(cb));
}

void session::do_subscribe(std::string topic, std::function<void(const event&)> handler,
                           subscribe_options options,
                           std::function<void(std::exception_ptr, subscription)> cb) {
  impl_->subscribe(std::move(topic), std::move(handler), std::move(options), std::move(cb));
}

void session::do_unsubscribe(subscription sub, std::function<void(std::exception_ptr)> cb) {
  impl_->unsubscribe(std::move(sub), std::move(cb));
}

wire::id session::do_call(std::string procedure, value args, value kwargs, call_options options,
                          std::function<void(std::exception_ptr, call_result)> cb) {
  return impl_->call(std::move(procedure), std::move(args), std::move(kwargs), std::move(options),
                     std::move(cb));
}

void session::do_register(std::string procedure, invocation_handler handler,
                          register_options options,
                          std::function<void(std::exception_ptr, registration)> cb) {
  impl_->enroll(std::move(procedure), std::move(handler), std::move(options), std::move(cb));
}

void session::do_unregister(registration reg, std::function<void(std::exception_ptr)> cb) {
  impl_->unregister(std::move(reg), std::move(cb));
}

}  // namespace wampbox
