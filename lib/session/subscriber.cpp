// The subscriber role: SUBSCRIBE, UNSUBSCRIBE, EVENT.
#include "session_impl.hpp"

#include <iostream>

namespace wampbox::detail {

const char* match_name(match_policy m) {
  switch (m) {
    case match_policy::prefix: return "prefix";
    case match_policy::wildcard: return "wildcard";
    case match_policy::exact: break;
  }
  return "exact";
}

value match_options(match_policy match, const value& extra) {
  value opts = options_from(extra);
  if (match != match_policy::exact) opts["match"] = match_name(match);
  return opts;
}

operation_ref session_impl::subscribe(std::string topic, std::function<void(const event&)> handler,
                                      subscribe_options options, result_handler<subscription> cb) {
  auto opts = enrolment_options(options.match, options.extra, cb);
  if (!opts) return {};
  if (options.get_retained) (*opts)["get_retained"] = true;
  const auto id = next_request();
  auto complete = [topic, handler = std::move(handler), cb](
                      session_impl& self, std::exception_ptr e, wire::message* answer) mutable {
    auto* subscribed = expect<wire::subscribed_message>(e, answer);
    if (!subscribed) return cb(e, {});
    cb(nullptr, self.add_subscription(subscribed->subscription, topic, std::move(handler)));
  };
  // Canceled before SUBSCRIBED: undo the subscription when it arrives (unless another
  // handler of ours uses the same router subscription).
  auto undo = [](session_impl&) -> request_completion {
    return [](session_impl& self, std::exception_ptr, wire::message* answer) {
      auto* subscribed = answer ? std::get_if<wire::subscribed_message>(answer) : nullptr;
      if (subscribed && !self.subscriptions_.contains(subscribed->subscription))
        self.send_quietly(wire::unsubscribe_message{self.next_request(), subscribed->subscription});
    };
  };
  return request(id, wire::subscribe_message{id, std::move(*opts), std::move(topic)},
                 wire::message_type::subscribe, std::move(complete), std::move(undo));
}

subscription session_impl::add_subscription(wire::id id, const std::string& topic,
                                            std::function<void(const event&)> handler) {
  auto& state = subscriptions_[id];
  state.topic = topic;
  const auto slot = next_slot_++;
  state.handlers.emplace(
      slot, std::make_shared<const std::function<void(const event&)>>(std::move(handler)));
  return subscription{id, slot, topic};
}

operation_ref session_impl::unsubscribe(subscription sub, done_handler cb) {
  if (auto refused = refusal()) {
    cb(refused);
    return {};
  }
  auto it = subscriptions_.find(sub.id);
  if (it == subscriptions_.end() || it->second.handlers.erase(sub.slot) == 0) {
    cb(std::make_exception_ptr(wamp_error("wamp.error.no_such_subscription")));
    return {};
  }
  if (!it->second.handlers.empty()) {
    cb(nullptr);  // other handlers still use the router's subscription
    return {};
  }
  subscriptions_.erase(it);
  const auto id = next_request();
  // Canceled, it stops waiting: the handler is already gone and UNSUBSCRIBE already sent.
  return request(id, wire::unsubscribe_message{id, sub.id}, wire::message_type::unsubscribe,
                 completes<wire::unsubscribed_message>(std::move(cb)));
}

void undo(session_impl& s, const subscription& sub) noexcept {
  // Nothing to report to (an empty completion): fire and forget.
  try {
    s.unsubscribe(sub, {});
  } catch (...) {  // allocation failure: the router drops it with the session
  }
}

void session_impl::on_subscription_revoked(const value& details) {
  if (details.contains("subscription") && details["subscription"].is_number_unsigned())
    subscriptions_.erase(details["subscription"].get<wire::id>());
}

void session_impl::on_event(wire::event_message& m) {
  auto it = subscriptions_.find(m.subscription);
  if (it == subscriptions_.end()) return;  // in flight while we unsubscribed
  event ev;
  ev.topic = string_or(m.details, "topic", it->second.topic);
  ev.publication = m.publication;
  codec::call_context context;
  context.publication = m.publication;
  try {
    decode_payload(*codec_, codec::payload_kind::event, ev.topic, m.details, m.data, context);
  } catch (...) {
    return report_event_error(ev.topic, std::current_exception());
  }
  ev.encrypted = context.encrypted;
  ev.sender = std::move(context.sender);
  ev.args = std::move(m.data.args);
  ev.kwargs = std::move(m.data.kwargs);
  ev.subscription = m.subscription;
  ev.retained = flag(m.details, "retained");
  ev.publisher = disclosed(m.details, "publisher");
  ev.details = std::move(m.details);
  // A handler may unsubscribe itself or others, or end the session: each step looks the
  // subscription up again and takes the next handler by slot. Handlers unsubscribed meanwhile
  // are not called; those added meanwhile (slots from `end` on) wait for the next event.
  const auto end = next_slot_;
  for (std::uint64_t next = 0;;) {
    it = subscriptions_.find(ev.subscription);
    if (it == subscriptions_.end()) break;
    auto entry = it->second.handlers.lower_bound(next);
    if (entry == it->second.handlers.end() || entry->first >= end) break;
    next = entry->first + 1;
    const auto handler = entry->second;  // kept alive while it runs, should it unsubscribe
    try {
      (*handler)(ev);
    } catch (...) {
      report_event_error(ev.topic, std::current_exception());
    }
  }
  empty_flat(ev.args);
  empty_flat(ev.kwargs);
  empty_flat(ev.details);
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

}  // namespace wampbox::detail
