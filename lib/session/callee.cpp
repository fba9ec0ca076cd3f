// The callee role: REGISTER, UNREGISTER, INVOCATION, INTERRUPT, and the responder that
// answers with YIELD or ERROR.
#include "session_impl.hpp"

#include <boost/asio/dispatch.hpp>

namespace wampbox::detail {
namespace {

using wire::message_type;

const char* policy_name(invocation_policy policy) {
  switch (policy) {
    case invocation_policy::roundrobin: return "roundrobin";
    case invocation_policy::random: return "random";
    case invocation_policy::first: return "first";
    case invocation_policy::last: return "last";
    case invocation_policy::single: break;
  }
  return "single";
}

/// Runs `work(session, invocation)` on the session's executor (at once when called there),
/// so that a responder may be used from any thread.
template <typename Work>
void hand_over(std::shared_ptr<pending_invocation> inv, Work work) {
  auto executor = inv->executor;
  boost::asio::dispatch(executor, [inv = std::move(inv), work = std::move(work)]() mutable {
    if (auto s = inv->session.lock()) work(*s, *inv);
  });
}

}  // namespace

pending_invocation::~pending_invocation() {
  if (answered || interrupted) return;
  // The last responder went away unanswered, maybe on another thread: answer through a copy.
  auto copy = std::make_shared<pending_invocation>();
  copy->session = session;
  copy->executor = executor;
  copy->request = request;
  copy->procedure = procedure;
  copy->context = context;
  copy->answered = true;  // so that the copy itself never answers again
  try {
    hand_over(std::move(copy), [](session_impl& s, pending_invocation& inv) {
      s.answer_error(inv, "wamp.error.runtime_error",
                     value::array({"invocation dropped without an answer"}), nullptr);
    });
  } catch (...) {  // a destructor must not throw; the caller then sees the session end
  }
}

operation_ref session_impl::enroll(std::string procedure, invocation_handler handler,
                                   register_options options, result_handler<registration> cb) {
  auto opts = enrolment_options(options.match, options.extra, cb);
  if (!opts) return {};
  if (options.invoke != invocation_policy::single) (*opts)["invoke"] = policy_name(options.invoke);
  const auto id = next_request();
  auto complete = [procedure, handler = std::move(handler), cb](
                      session_impl& self, std::exception_ptr e, wire::message* answer) mutable {
    auto* registered = expect<wire::registered_message>(e, answer);
    if (!registered) return cb(e, {});
    self.registrations_[registered->registration] = {procedure, std::move(handler)};
    cb(nullptr, registration{registered->registration, procedure});
  };
  // Canceled before REGISTERED: undo the registration when it arrives.
  auto undo = [](session_impl&) -> request_completion {
    return [](session_impl& self, std::exception_ptr, wire::message* answer) {
      if (auto* registered = answer ? std::get_if<wire::registered_message>(answer) : nullptr)
        self.send_quietly(wire::unregister_message{self.next_request(), registered->registration});
    };
  };
  return request(id, wire::register_message{id, std::move(*opts), std::move(procedure)},
                 message_type::register_, std::move(complete), std::move(undo));
}

operation_ref session_impl::unregister(registration reg, done_handler cb) {
  if (auto refused = refusal()) {
    cb(refused);
    return {};
  }
  if (registrations_.erase(reg.id) == 0) {
    cb(std::make_exception_ptr(wamp_error("wamp.error.no_such_registration")));
    return {};
  }
  const auto id = next_request();
  // Canceled, it stops waiting: the handler is already gone and UNREGISTER already sent.
  return request(id, wire::unregister_message{id, reg.id}, message_type::unregister,
                 completes<wire::unregistered_message>(std::move(cb)));
}

void undo(session_impl& s, const registration& reg) noexcept {
  // Nothing to report to (an empty completion): fire and forget.
  try {
    s.unregister(reg, {});
  } catch (...) {  // allocation failure: the router drops it with the session
  }
}

void session_impl::on_registration_revoked(const value& details) {
  if (details.contains("registration") && details["registration"].is_number_unsigned())
    registrations_.erase(details["registration"].get<wire::id>());
}

void session_impl::on_invocation(wire::invocation_message& m) {
  auto it = registrations_.find(m.registration);
  if (it == registrations_.end()) {
    send_quietly(wire::error_message{message_type::invocation,
                                     m.request,
                                     value::object(),
                                     "wamp.error.no_such_registration",
                                     {}});
    return;
  }
  auto state = std::make_shared<pending_invocation>();
  state->session = weak_from_this();
  state->executor = executor_;
  state->request = m.request;
  state->procedure = string_or(m.details, "procedure", it->second.procedure);
  state->receive_progress = flag(m.details, "receive_progress");
  try {
    decode_payload(*codec_, codec::payload_kind::invocation, state->procedure, m.details, m.data,
                   state->context);
  } catch (const payload_error& e) {
    // Refusal carries no payload, so it cannot leak anything in plaintext.
    state->answered = true;
    send_quietly(wire::error_message{message_type::invocation,
                                     m.request,
                                     value::object(),
                                     e.uri(),
                                     {value::array({e.what()}), nullptr, {}}});
    return;
  }
  invocation inv;
  inv.procedure = state->procedure;
  inv.registration = m.registration;
  inv.request = m.request;
  inv.args = std::move(m.data.args);
  inv.kwargs = std::move(m.data.kwargs);
  inv.details = std::move(m.details);
  inv.encrypted = state->context.encrypted;
  inv.sender = state->context.sender;
  inv.caller = disclosed(inv.details, "caller");
  if (auto t = inv.details.find("timeout"); t != inv.details.end() && t->is_number_unsigned())
    inv.timeout = std::chrono::milliseconds(t->get<std::uint64_t>());
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
    send_quietly(wire::error_message{
        message_type::invocation, m.request, value::object(), "wamp.error.canceled", {}});
    inv->interrupt();
  }
}

void pending_invocation::interrupt() {
  interrupted = true;
  if (auto notify = std::exchange(on_interrupt, nullptr)) {
    try {
      notify();
    } catch (...) {  // the callee is told, nothing else to do; the answer is already sent
    }
  }
}

void session_impl::answer_yield(pending_invocation& inv, call_result result, bool progress) {
  if (inv.interrupted) return;
  if (!progress) {
    invocations_.erase(inv.request);
    inv.on_interrupt = nullptr;  // answered: it can no longer be interrupted
  }
  wire::yield_message msg{inv.request, std::move(result.details), {}};
  try {
    msg.options = options_from(msg.options);
    if (progress) msg.options["progress"] = true;
    msg.data = encode_payload(*codec_, codec::payload_kind::yield, inv.procedure, msg.options,
                              std::move(result.args), std::move(result.kwargs), inv.context);
  } catch (const payload_error& e) {
    // Never answer in plaintext what must be encrypted: report the failure instead.
    answer_error(inv, e.uri(), value::array({e.what()}), nullptr);
    return;
  } catch (const std::exception& e) {
    answer_error(inv, "wamp.error.invalid_argument", value::array({e.what()}), nullptr);
    return;
  }
  send_quietly(std::move(msg));
}

void session_impl::answer_error(pending_invocation& inv, std::string uri, value args,
                                value kwargs) {
  if (inv.interrupted) return;
  invocations_.erase(inv.request);
  inv.on_interrupt = nullptr;
  wire::error_message msg{
      message_type::invocation, inv.request, value::object(), std::move(uri), {}};
  try {
    msg.data = encode_payload(*codec_, codec::payload_kind::call_error, msg.error, msg.details,
                              std::move(args), std::move(kwargs), inv.context);
  } catch (const payload_error& e) {
    msg = wire::error_message{message_type::invocation,
                              inv.request,
                              value::object(),
                              e.uri(),
                              {}};  // without the payload that could not be protected
  } catch (const std::exception& e) {
    msg.data = {value::array({e.what()}), nullptr, {}};
  }
  send_quietly(std::move(msg));
}

}  // namespace wampbox::detail

namespace wampbox {

void responder::yield(call_result result) {
  if (state_->answered.exchange(true)) return;  // one final answer only
  detail::hand_over(state_, [result = std::move(result)](detail::session_impl& s,
                                                         detail::pending_invocation& inv) mutable {
    s.answer_yield(inv, std::move(result), false);
  });
}

void responder::progress(call_result result) {
  if (state_->answered || state_->interrupted || !state_->receive_progress) return;
  detail::hand_over(state_, [result = std::move(result)](detail::session_impl& s,
                                                         detail::pending_invocation& inv) mutable {
    s.answer_yield(inv, std::move(result), true);
  });
}

void responder::error(std::string uri, value args, value kwargs) {
  if (state_->answered.exchange(true)) return;
  detail::hand_over(state_,
                    [uri = std::move(uri), args = std::move(args), kwargs = std::move(kwargs)](
                        detail::session_impl& s, detail::pending_invocation& inv) mutable {
                      s.answer_error(inv, std::move(uri), std::move(args), std::move(kwargs));
                    });
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

void responder::on_interrupt(std::function<void()> handler) {
  detail::hand_over(state_, [handler = std::move(handler)](
                                detail::session_impl&, detail::pending_invocation& inv) mutable {
    inv.on_interrupt = std::move(handler);
    if (inv.interrupted) inv.interrupt();
  });
}

bool responder::interrupted() const noexcept { return state_->interrupted; }
bool responder::answered() const noexcept { return state_->answered; }

}  // namespace wampbox
