// Reading the Details and building the Options of WAMP messages, and the session's errors.
#include "session_impl.hpp"

namespace wampbox::detail {

std::exception_ptr make_error(boost::system::error_code ec, const std::string& what) {
  return std::make_exception_ptr(error(ec, what));
}

std::exception_ptr make_error(errc code, const std::string& what) {
  return make_error(make_error_code(code), what);
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

std::optional<peer_identity> disclosed(const value& details, const std::string& role) {
  if (!details.is_object()) return std::nullopt;
  auto it = details.find(role);
  if (it == details.end() || !it->is_number_unsigned()) return std::nullopt;
  return peer_identity{it->get<wire::id>(), string_or(details, (role + "_authid").c_str(), ""),
                       string_or(details, (role + "_authrole").c_str(), "")};
}

void empty_flat(value& v) noexcept {
  if (!v.is_array() && !v.is_object()) return;
  for (const auto& item : v)
    if ((item.is_array() || item.is_object()) && !item.empty()) return;
  v.clear();
}

value options_from(const value& extra) {
  if (extra.is_null()) return value::object();
  if (!extra.is_object()) throw error(errc::invalid_message, "extra options must be an object");
  return extra;
}

}  // namespace wampbox::detail
