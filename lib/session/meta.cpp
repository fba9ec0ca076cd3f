// Conversions of the meta procedures' answers (include/wampbox/session/meta.hpp).
#include "session_impl.hpp"

#include <wampbox/session/meta.hpp>

namespace wampbox::meta::convert {
namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw error(errc::invalid_message, "unexpected meta API answer: " + what);
}

/// The first result argument (null when there is none).
const value& first(const call_result& r) {
  static const value none;
  if (!r.args.is_array() || r.args.empty()) return none;
  return r.args[0];
}

wire::id id_of(const value& v) {
  if (!v.is_number_unsigned()) malformed("an id is not an unsigned integer");
  return v.get<wire::id>();
}

std::vector<wire::id> ids_of(const value& v) {
  std::vector<wire::id> out;
  if (v.is_null()) return out;
  if (!v.is_array()) malformed("expected a list of ids");
  for (const auto& item : v) out.push_back(id_of(item));
  return out;
}

std::string text(const value& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) malformed(std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

match_policy match_of(const std::string& name) {
  if (name == "exact" || name.empty()) return match_policy::exact;
  if (name == "prefix") return match_policy::prefix;
  if (name == "wildcard") return match_policy::wildcard;
  malformed("unknown match policy '" + name + "'");
}

invocation_policy policy_of(const std::string& name) {
  if (name == "single") return invocation_policy::single;
  if (name == "roundrobin") return invocation_policy::roundrobin;
  if (name == "random") return invocation_policy::random;
  if (name == "first") return invocation_policy::first;
  if (name == "last") return invocation_policy::last;
  malformed("unknown invocation policy '" + name + "'");
}

const value& object_of(const call_result& r) {
  const auto& v = first(r);
  if (!v.is_object()) malformed("expected an object");
  return v;
}

}  // namespace

std::size_t count(const call_result& r) {
  const auto& v = first(r);
  if (!v.is_number_unsigned()) malformed("expected a count");
  return v.get<std::size_t>();
}

std::vector<wire::id> ids(const call_result& r) { return ids_of(first(r)); }

std::optional<wire::id> maybe_id(const call_result& r) {
  const auto& v = first(r);
  if (v.is_null()) return std::nullopt;
  return id_of(v);
}

session_info session(const call_result& r) {
  const auto& v = object_of(r);
  auto id = v.find("session");
  if (id == v.end()) malformed("no session id");
  return {id_of(*id),
          text(v, "authid"),
          text(v, "authrole"),
          text(v, "authmethod"),
          text(v, "authprovider"),
          v};
}

id_lists lists(const call_result& r) {
  const auto& v = object_of(r);
  auto list = [&](const char* key) {
    auto it = v.find(key);
    return it == v.end() ? std::vector<wire::id>{} : ids_of(*it);
  };
  return {list("exact"), list("prefix"), list("wildcard")};
}

entry_info entry(const call_result& r) {
  const auto& v = object_of(r);
  auto id = v.find("id");
  if (id == v.end()) malformed("no id");
  entry_info out;
  out.id = id_of(*id);
  out.created = text(v, "created");
  out.uri = text(v, "uri");
  out.match = match_of(text(v, "match"));
  if (v.contains("invoke")) out.invoke = policy_of(text(v, "invoke"));
  return out;
}

const char* match_name(match_policy match) { return wampbox::detail::match_name(match); }

}  // namespace wampbox::meta::convert
