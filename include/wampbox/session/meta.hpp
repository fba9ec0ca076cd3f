// wampbox — typed calls of the router's meta procedures (WAMP session, subscription and
// registration meta API, as Crossbar.io implements it).
//
// Each function calls one `wamp.*` procedure through `session::async_call` and converts its
// result; it takes a completion token like the session's operations (default: use_awaitable)
// and completes with `void(std::exception_ptr, T)`. The router's ERROR arrives as `wamp_error`
// (e.g. `wamp.error.no_such_session`); a result of the wrong shape as `wampbox::error`
// (errc::invalid_message). The session must still exist when the operation starts (for
// use_awaitable: when it is co_awaited). Meta procedures are never encrypted: give them no key
// in the key ring (Crossbar.io's service session holds no keys).
#pragma once

#include <wampbox/export.hpp>
#include <wampbox/session/session.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>

#include <optional>
#include <string>
#include <vector>

namespace wampbox::meta {

/// One session as `wamp.session.get` describes it.
struct session_info {
  wire::id session = 0;      ///< its session id
  std::string authid;        ///< authid
  std::string authrole;      ///< authrole
  std::string authmethod;    ///< how it authenticated, e.g. "anonymous"
  std::string authprovider;  ///< who authenticated it, e.g. "static"
  value details;             ///< the whole answer (transport details and more)
};

/// Subscription or registration ids by match policy (`wamp.subscription.list`,
/// `wamp.registration.list`).
struct id_lists {
  std::vector<wire::id> exact;     ///< exact-match ids
  std::vector<wire::id> prefix;    ///< prefix-match ids
  std::vector<wire::id> wildcard;  ///< wildcard-match ids
};

/// One subscription or registration (`wamp.subscription.get`, `wamp.registration.get`).
struct entry_info {
  wire::id id = 0;                           ///< subscription or registration id
  std::string created;                       ///< when the router created it (ISO 8601 text)
  std::string uri;                           ///< topic or procedure (or pattern)
  match_policy match = match_policy::exact;  ///< its match policy
  /// Registrations only: its invocation policy (nullopt for subscriptions).
  std::optional<invocation_policy> invoke;
};

/// Converts answers of the meta procedures; throws `wampbox::error` (errc::invalid_message)
/// when the answer has another shape.
namespace convert {
/// The first result argument as a count.
WAMPBOX_API std::size_t count(const call_result& r);
/// The first result argument as a list of ids (null: empty).
WAMPBOX_API std::vector<wire::id> ids(const call_result& r);
/// The first result argument as one id, or nullopt when it is null.
WAMPBOX_API std::optional<wire::id> maybe_id(const call_result& r);
/// The first result argument as session details.
WAMPBOX_API session_info session(const call_result& r);
/// The first result argument as {"exact":[..],"prefix":[..],"wildcard":[..]}.
WAMPBOX_API id_lists lists(const call_result& r);
/// The first result argument as a subscription or registration description.
WAMPBOX_API entry_info entry(const call_result& r);
/// The wire name of a match policy ("exact", "prefix", "wildcard").
WAMPBOX_API const char* match_name(match_policy match);
}  // namespace convert

namespace detail {
/// Calls `procedure` and completes with `convert(result)` (or the failure).
template <typename T, typename Convert, typename CompletionToken>
auto call(session& s, std::string procedure, value args, Convert convert, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, T)>(
      [&s](auto handler, std::string procedure, value args, Convert convert) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto ex = boost::asio::get_associated_executor(handler, s.get_executor());
        auto done = [handler = std::move(handler), convert](std::exception_ptr e,
                                                            call_result r) mutable {
          T out{};
          if (!e) {
            try {
              out = convert(r);
            } catch (...) {
              e = std::current_exception();
            }
          }
          std::move(handler)(e, std::move(out));
        };
        s.async_call(std::move(procedure), std::move(args), nullptr, {},
                     boost::asio::bind_cancellation_slot(
                         slot, boost::asio::bind_executor(ex, std::move(done))));
      },
      token, std::move(procedure), std::move(args), std::move(convert));
}

/// A one-element argument list.
inline value one(value v) {
  value a = value::array();
  a.push_back(std::move(v));
  return a;
}
}  // namespace detail

/// `wamp.session.count`: how many sessions are joined to the realm (the router's own service
/// session not counted).
template <typename CompletionToken = session::default_token>
auto session_count(session& s, CompletionToken&& token = {}) {
  return detail::call<std::size_t>(s, "wamp.session.count", nullptr, &convert::count,
                                   std::forward<CompletionToken>(token));
}

/// `wamp.session.list`: the ids of the sessions joined to the realm.
template <typename CompletionToken = session::default_token>
auto session_list(session& s, CompletionToken&& token = {}) {
  return detail::call<std::vector<wire::id>>(s, "wamp.session.list", nullptr, &convert::ids,
                                             std::forward<CompletionToken>(token));
}

/// `wamp.session.get`: one session's details (`wamp.error.no_such_session` if unknown).
template <typename CompletionToken = session::default_token>
auto session_get(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<session_info>(s, "wamp.session.get", detail::one(id), &convert::session,
                                    std::forward<CompletionToken>(token));
}

/// `wamp.subscription.list`: the ids of every subscription on the realm by match policy.
template <typename CompletionToken = session::default_token>
auto subscription_list(session& s, CompletionToken&& token = {}) {
  return detail::call<id_lists>(s, "wamp.subscription.list", nullptr, &convert::lists,
                                std::forward<CompletionToken>(token));
}

/// `wamp.subscription.lookup`: the subscription on exactly (topic, match), or nullopt.
template <typename CompletionToken = session::default_token>
auto subscription_lookup(session& s, std::string topic, match_policy match = match_policy::exact,
                         CompletionToken&& token = {}) {
  value args = value::array();
  args.push_back(std::move(topic));
  args.push_back(value{{"match", convert::match_name(match)}});
  return detail::call<std::optional<wire::id>>(s, "wamp.subscription.lookup", std::move(args),
                                               &convert::maybe_id,
                                               std::forward<CompletionToken>(token));
}

/// `wamp.subscription.match`: the subscriptions an event on `topic` would go to.
template <typename CompletionToken = session::default_token>
auto subscription_match(session& s, std::string topic, CompletionToken&& token = {}) {
  return detail::call<std::vector<wire::id>>(s, "wamp.subscription.match",
                                             detail::one(std::move(topic)), &convert::ids,
                                             std::forward<CompletionToken>(token));
}

/// `wamp.subscription.get`: one subscription (`wamp.error.no_such_subscription` if unknown).
template <typename CompletionToken = session::default_token>
auto subscription_get(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<entry_info>(s, "wamp.subscription.get", detail::one(id), &convert::entry,
                                  std::forward<CompletionToken>(token));
}

/// `wamp.subscription.list_subscribers`: the session ids subscribed through one subscription.
template <typename CompletionToken = session::default_token>
auto subscription_subscribers(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<std::vector<wire::id>>(s, "wamp.subscription.list_subscribers",
                                             detail::one(id), &convert::ids,
                                             std::forward<CompletionToken>(token));
}

/// `wamp.subscription.count_subscribers`: how many sessions one subscription has.
template <typename CompletionToken = session::default_token>
auto subscription_subscriber_count(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<std::size_t>(s, "wamp.subscription.count_subscribers", detail::one(id),
                                   &convert::count, std::forward<CompletionToken>(token));
}

/// `wamp.registration.list`: the ids of every registration on the realm by match policy.
template <typename CompletionToken = session::default_token>
auto registration_list(session& s, CompletionToken&& token = {}) {
  return detail::call<id_lists>(s, "wamp.registration.list", nullptr, &convert::lists,
                                std::forward<CompletionToken>(token));
}

/// `wamp.registration.lookup`: the registration on exactly (procedure, match), or nullopt.
template <typename CompletionToken = session::default_token>
auto registration_lookup(session& s, std::string procedure,
                         match_policy match = match_policy::exact, CompletionToken&& token = {}) {
  value args = value::array();
  args.push_back(std::move(procedure));
  args.push_back(value{{"match", convert::match_name(match)}});
  return detail::call<std::optional<wire::id>>(s, "wamp.registration.lookup", std::move(args),
                                               &convert::maybe_id,
                                               std::forward<CompletionToken>(token));
}

/// `wamp.registration.match`: the registration a call of `procedure` would go to, or nullopt.
template <typename CompletionToken = session::default_token>
auto registration_match(session& s, std::string procedure, CompletionToken&& token = {}) {
  return detail::call<std::optional<wire::id>>(
      s, "wamp.registration.match", detail::one(std::move(procedure)), &convert::maybe_id,
      std::forward<CompletionToken>(token));
}

/// `wamp.registration.get`: one registration (`wamp.error.no_such_registration` if unknown).
template <typename CompletionToken = session::default_token>
auto registration_get(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<entry_info>(s, "wamp.registration.get", detail::one(id), &convert::entry,
                                  std::forward<CompletionToken>(token));
}

/// `wamp.registration.list_callees`: the session ids of one registration's callees.
template <typename CompletionToken = session::default_token>
auto registration_callees(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<std::vector<wire::id>>(s, "wamp.registration.list_callees", detail::one(id),
                                             &convert::ids, std::forward<CompletionToken>(token));
}

/// `wamp.registration.count_callees`: how many callees one registration has.
template <typename CompletionToken = session::default_token>
auto registration_callee_count(session& s, wire::id id, CompletionToken&& token = {}) {
  return detail::call<std::size_t>(s, "wamp.registration.count_callees", detail::one(id),
                                   &convert::count, std::forward<CompletionToken>(token));
}

}  // namespace wampbox::meta
