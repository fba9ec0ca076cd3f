// The session's side of WAMP authentication: HELLO's auth details, CHALLENGE/AUTHENTICATE
// through the join's auth::exchange, and WELCOME's check (WAMP-SCRAM's server signature).
#include "session_impl.hpp"

#include <sodium.h>
#include <boost/asio/post.hpp>

#include <array>

namespace wampbox::detail {

bool is_authentication_refusal(const std::string& reason) {
  static const std::array<std::string_view, 7> refusals = {
      "wamp.error.not_authorized",        "wamp.error.authorization_failed",
      "wamp.error.authentication_failed", "wamp.error.no_auth_method",
      "wamp.error.no_such_principal",     "wamp.error.no_such_role",
      "wamp.error.cannot_authenticate"};
  for (const auto r : refusals)
    if (reason == r) return true;
  return false;
}

void session_impl::start_authentication(const join_options& options, value& details) {
  value authextra = options_from(options.authextra);
  std::string authid = options.authid;
  if (options.authenticator) {
    const auto& a = *options.authenticator;
    if (!authid.empty() && !a.authid().empty() && authid != a.authid())
      throw error(errc::authentication_failed, "join_options::authid '" + authid +
                                                   "' differs from the authenticator's '" +
                                                   a.authid() + "'");
    if (authid.empty()) authid = a.authid();
    auto exchange = a.start(auth::channel{transport_->channel_binding_tls_unique()});
    const value own = exchange->hello_authextra();
    for (const auto& [key, v] : own.items()) {
      if (authextra.contains(key) && authextra[key] != v)
        throw error(errc::authentication_failed, "join_options::authextra." + key +
                                                     " contradicts the " + a.method() +
                                                     " authenticator's");
      authextra[key] = v;
    }
    details["authmethods"] = value::array({a.method()});
    auth_exchange_ = std::move(exchange);
  }
  if (!authid.empty()) details["authid"] = authid;
  if (!options.authrole.empty()) details["authrole"] = options.authrole;
  if (!authextra.empty()) details["authextra"] = std::move(authextra);
}

void session_impl::on_challenge(wire::challenge_message& m) {
  if (state_ != state::joining || awaiting_answer_)
    return violation("CHALLENGE outside of joining, or before the last one was answered");
  try {
    const auto& offered = join_options_.authenticator;
    if (!offered || !auth_exchange_)
      throw error(errc::authentication_failed,
                  "router asks for authentication method '" + m.auth_method +
                      "' but the join offered none (set join_options::authenticator)");
    if (m.auth_method != offered->method())
      throw error(errc::authentication_failed, "router asks for authentication method '" +
                                                   m.auth_method + "' but the join offered '" +
                                                   offered->method() + "'");
    awaiting_answer_ = true;
    // Posted, never run inline: an exchange that throws has its reply dropped on the way out,
    // and the throw (handled below) must be what the application sees.
    auth::reply reply([weak = weak_from_this(), ex = executor_, id = join_id_](
                          std::exception_ptr failure, std::string signature, value extra) {
      boost::asio::post(ex, [weak, id, failure, signature = std::move(signature),
                             extra = std::move(extra)]() mutable {
        auto self = weak.lock();
        if (self && self->join_id_ == id && self->awaiting_answer_)
          self->on_challenge_answer(failure, std::move(signature), std::move(extra));
        sodium_memzero(signature.data(), signature.size());
      });
    });
    auth_exchange_->respond(challenge{m.auth_method, m.extra}, std::move(reply));
  } catch (...) {
    on_challenge_answer(std::current_exception(), {}, nullptr);
  }
}

void session_impl::on_challenge_answer(std::exception_ptr failure, std::string signature,
                                       value extra) {
  awaiting_answer_ = false;
  if (!failure) {
    challenge_answered_ = true;
    send_quietly(wire::authenticate_message{std::move(signature), std::move(extra)});
    return;
  }
  send_quietly(wire::abort_message{value::object(), "wamp.error.cannot_authenticate", {}});
  try {
    std::rethrow_exception(failure);
  } catch (const error&) {
  } catch (const std::exception& e) {
    failure = make_error(errc::authentication_failed, e.what());
  } catch (...) {
    failure = make_error(errc::authentication_failed, "the challenge handler failed");
  }
  end(failure);
}

std::exception_ptr session_impl::verify_welcome(const value& details) {
  std::exception_ptr refused;
  if (auth_exchange_ && challenge_answered_) {
    try {
      const auto it = details.is_object() ? details.find("authextra") : details.end();
      auth_exchange_->verify_welcome(it != details.end() ? *it : value::object());
    } catch (const error&) {
      refused = std::current_exception();
    } catch (const std::exception& e) {
      refused = make_error(errc::authentication_failed, e.what());
    }
  }
  end_authentication();
  return refused;
}

void session_impl::end_authentication() noexcept {
  join_options_.authenticator.reset();  // the credentials are no longer needed
  auth_exchange_.reset();
  awaiting_answer_ = false;
  challenge_answered_ = false;
}

}  // namespace wampbox::detail
