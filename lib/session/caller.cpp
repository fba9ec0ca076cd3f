// The caller role: CALL, RESULT (progressive and final), CANCEL.
#include "session_impl.hpp"

namespace wampbox::detail {
namespace {

const char* mode_name(cancel_mode mode) {
  switch (mode) {
    case cancel_mode::killnowait: return "killnowait";
    case cancel_mode::skip: return "skip";
    case cancel_mode::kill: break;
  }
  return "kill";
}

/// One call from CALL to its final answer.
struct pending_call {
  wire::id request = 0;
  std::string procedure;
  codec::call_context context;
  std::function<void(const call_result&)> on_progress;
  shared_completion<void(std::exception_ptr, call_result)> done;

  void complete(session_impl& self, std::exception_ptr e, wire::message* answer);
};

void pending_call::complete(session_impl& self, std::exception_ptr e, wire::message* answer) {
  if (!answer) return done(e, {});
  if (auto* err = std::get_if<wire::error_message>(answer)) {
    try {
      decode_payload(*self.codec_, codec::payload_kind::result_error, err->error, err->details,
                     err->data, context);
      done(std::make_exception_ptr(
               wamp_error(err->error, std::move(err->data.args), std::move(err->data.kwargs))),
           {});
    } catch (...) {
      done(std::current_exception(), {});
    }
    return;
  }
  auto& r = std::get<wire::result_message>(*answer);
  const bool progress = flag(r.details, "progress");
  call_result result;
  try {
    decode_payload(*self.codec_, codec::payload_kind::result, procedure, r.details, r.data,
                   context);
  } catch (...) {
    // A refused progressive result ends the call too: nothing is passed on unchecked.
    if (progress)
      self.fail_request(request, std::current_exception());
    else
      done(std::current_exception(), {});
    return;
  }
  result.encrypted = context.encrypted;
  result.sender = context.sender;
  result.args = std::move(r.data.args);
  result.kwargs = std::move(r.data.kwargs);
  result.details = std::move(r.details);
  if (!progress)
    done(nullptr, std::move(result));
  else if (on_progress)
    on_progress(result);
}

}  // namespace

operation_ref session_impl::call(std::string procedure, value args, value kwargs,
                                 call_options options, result_handler<call_result> cb) {
  if (auto refused = refusal()) {
    cb(refused, {});
    return {};
  }
  auto pending = std::make_shared<pending_call>();
  wire::call_message msg;
  try {
    msg.options = options_from(options.extra);
    if (options.timeout.count() > 0) msg.options["timeout"] = options.timeout.count();
    if (options.disclose_me) msg.options["disclose_me"] = true;
    if (options.on_progress) msg.options["receive_progress"] = true;
    msg.data = encode_payload(*codec_, codec::payload_kind::call, procedure, msg.options,
                              std::move(args), std::move(kwargs), pending->context);
  } catch (...) {
    cb(std::current_exception(), {});
    return {};
  }
  msg.request = pending->request = next_request();
  msg.procedure = procedure;
  pending->procedure = std::move(procedure);
  pending->on_progress = std::move(options.on_progress);
  pending->done = std::move(cb);
  const auto id = msg.request;
  // Canceled: CANCEL in the chosen mode; the router's late answer is ignored.
  auto cancel = [id, mode = options.cancel_mode](session_impl& self) -> request_completion {
    self.send_quietly(wire::cancel_message{id, value{{"mode", mode_name(mode)}}});
    return {};
  };
  return request(
      id, std::move(msg), wire::message_type::call,
      [pending](session_impl& self, std::exception_ptr e, wire::message* answer) {
        pending->complete(self, e, answer);
      },
      std::move(cancel), options.deadline);
}

void session_impl::fail_request(wire::id id, std::exception_ptr e) { requests_.fail(*this, id, e); }

}  // namespace wampbox::detail
