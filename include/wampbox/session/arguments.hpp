// wampbox — arguments without ceremony: `args(21.5, "°C")`, and typed handlers whose
// parameters are converted from an event's or invocation's positional arguments.
#pragma once

#include <wampbox/error.hpp>
#include <wampbox/session/types.hpp>

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace wampbox {

/// Positional arguments from values: `args(21.5, "°C")` is the array `[21.5, "°C"]`.
template <typename... T>
value args(T&&... v) {
  value a = value::array();
  (a.push_back(value(std::forward<T>(v))), ...);
  return a;
}

namespace detail {

template <typename R, typename... A>
struct signature {
  using result = R;
  using arguments = std::tuple<std::decay_t<A>...>;
};

/// Parameter and result types of a function, or of a callable with one, non-template call
/// operator (typed handlers cannot be generic lambdas).
template <typename F>
struct signature_of : signature_of<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct signature_of<R (C::*)(A...) const> : signature<R, A...> {};
template <typename C, typename R, typename... A>
struct signature_of<R (C::*)(A...)> : signature<R, A...> {};
template <typename R, typename... A>
struct signature_of<R (*)(A...)> : signature<R, A...> {};

/// The WAMP error for arguments that do not fit a typed handler.
inline wamp_error invalid_argument(const std::string& why) {
  value a = value::array();
  a.push_back(why);
  return wamp_error("wamp.error.invalid_argument", std::move(a));
}

/// Converts argument `i` to T; throws `invalid_argument` when it has another JSON type (a
/// string is no number, a fraction no integer).
template <typename T>
T argument(const value& all, std::size_t i) {
  const value& v = all[i];
  bool fits = true;
  if constexpr (std::is_same_v<T, bool>)
    fits = v.is_boolean();
  else if constexpr (std::is_integral_v<T>)
    fits = v.is_number_integer();
  else if constexpr (std::is_floating_point_v<T>)
    fits = v.is_number();
  else if constexpr (std::is_same_v<T, std::string>)
    fits = v.is_string();
  if (!fits)
    throw invalid_argument("argument " + std::to_string(i + 1) + " has the wrong type (" +
                           v.type_name() + ")");
  try {
    return v.get<T>();
  } catch (const nlohmann::json::exception&) {
    throw invalid_argument("argument " + std::to_string(i + 1) + " does not convert");
  }
}

/// All positional arguments as the tuple `Tuple`; their number must match.
template <typename Tuple, std::size_t... I>
Tuple arguments_as(const value& all, std::index_sequence<I...>) {
  const std::size_t given = all.is_array() ? all.size() : 0;
  if (given != sizeof...(I))
    throw invalid_argument("expected " + std::to_string(sizeof...(I)) + " arguments, got " +
                           std::to_string(given));
  return Tuple{argument<std::tuple_element_t<I, Tuple>>(all, I)...};
}

/// Calls a typed handler with the converted positional arguments.
template <typename Handler>
decltype(auto) call_typed(Handler& handler, const value& all) {
  using tuple = typename signature_of<Handler>::arguments;
  return std::apply(handler,
                    arguments_as<tuple>(all, std::make_index_sequence<std::tuple_size_v<tuple>>{}));
}

/// A typed callee's return value as a call_result (void: no arguments).
template <typename R>
call_result to_result(R&& r) {
  if constexpr (std::is_same_v<std::decay_t<R>, call_result>) {
    return std::forward<R>(r);
  } else {
    call_result out;
    out.args = args(std::forward<R>(r));
    return out;
  }
}

}  // namespace detail

/// Makes an event handler from `void(const event&)`, or from a typed handler such as
/// `[](double v, std::string unit) {...}` whose parameters are converted from the event's
/// positional arguments (a mismatch is reported to `session::on_event_error` as
/// `wamp.error.invalid_argument`).
template <typename Handler>
std::function<void(const event&)> make_event_handler(Handler handler) {
  if constexpr (std::is_invocable_v<Handler&, const event&>) {
    return handler;
  } else {
    return [handler = std::move(handler)](const event& e) mutable {
      detail::call_typed(handler, e.args);
    };
  }
}

}  // namespace wampbox
