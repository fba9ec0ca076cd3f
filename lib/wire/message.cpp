// WAMP messages <-> their array form, with strict validation of every field.
#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <wampbox/error.hpp>
#include <wampbox/wire/message.hpp>

#include "internal.hpp"

namespace wampbox::wire {
namespace {

constexpr id max_id = id{1} << 53;  // WAMP ids are integers in [1, 2^53] (JS-safe)

// Message types in the order of the `message` variant's alternatives.
constexpr std::array<message_type, 24> variant_types = {
    message_type::hello,        message_type::welcome,      message_type::abort,
    message_type::challenge,    message_type::authenticate, message_type::goodbye,
    message_type::error,        message_type::publish,      message_type::published,
    message_type::subscribe,    message_type::subscribed,   message_type::unsubscribe,
    message_type::unsubscribed, message_type::event,        message_type::call,
    message_type::cancel,       message_type::result,       message_type::register_,
    message_type::registered,   message_type::unregister,   message_type::unregistered,
    message_type::invocation,   message_type::interrupt,    message_type::yield,
};
static_assert(std::variant_size_v<message> == variant_types.size());

bool id_in_range(std::uint64_t i, bool allow_zero) { return i <= max_id && (allow_zero || i != 0); }

/// The value as an unsigned integer, whether nlohmann stores it signed or unsigned.
std::optional<std::uint64_t> as_unsigned(const value& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

bool is_id(const value& v, bool allow_zero) {
  const auto i = as_unsigned(v);
  return i && id_in_range(*i, allow_zero);
}

/// Throws invalid_message naming the message: "EVENT: Details must be a dict".
[[noreturn]] void invalid(const char* name, std::string_view what) {
  throw protocol_error(errc::invalid_message, std::string(name) + ": " + std::string(what));
}

std::string id_range_error(std::string_view field, bool allow_zero) {
  return std::string(field) + " must be an integer in [" + (allow_zero ? "0" : "1") + ", 2^53]";
}

/// The message type with code `code`, if wampbox knows it.
std::optional<message_type> known_type(std::uint64_t code) {
  if (code > 255) return std::nullopt;
  const auto t = static_cast<message_type>(code);
  if (std::string_view(message_name(t)) == "UNKNOWN") return std::nullopt;
  return t;
}

// ---- Options / Details keys whose type the WAMP spec (and Autobahn) fixes ----------------

enum class key_kind {
  boolean,
  string,
  id,
  id_list,
  string_list,
  dict_list,
  match,
  enc_algo,
  enc_serializer
};

struct key_rule {
  std::string_view key;
  key_kind kind;
};

bool custom_name(std::string_view s) {  // Autobahn's ^x_([a-z][\da-z_]+)?$
  if (!s.starts_with("x_")) return false;
  s.remove_prefix(2);
  if (s.empty()) return true;
  if (s.size() < 2 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (s == n) return true;
  return false;
}

template <typename Pred>
bool list_of(const value& v, Pred pred) {
  if (!v.is_array()) return false;
  for (const auto& e : v)
    if (!pred(e)) return false;
  return true;
}

bool matches(const value& v, key_kind kind) {
  switch (kind) {
    case key_kind::boolean: return v.is_boolean();
    case key_kind::string: return v.is_string();
    case key_kind::id: return is_id(v, false);
    case key_kind::id_list: return list_of(v, [](const value& e) { return is_id(e, false); });
    case key_kind::string_list: return list_of(v, [](const value& e) { return e.is_string(); });
    case key_kind::dict_list: return list_of(v, [](const value& e) { return e.is_object(); });
    case key_kind::match:
      return v.is_string() &&
             one_of(v.get_ref<const std::string&>(), {"exact", "prefix", "wildcard"});
    case key_kind::enc_algo: {
      if (!v.is_string()) return false;
      const auto& s = v.get_ref<const std::string&>();
      return one_of(s, {"cryptobox", "mqtt", "xbr"}) || custom_name(s);
    }
    case key_kind::enc_serializer: {
      if (!v.is_string()) return false;
      const auto& s = v.get_ref<const std::string&>();
      return one_of(s, {"json", "msgpack", "cbor", "ubjson", "flatbuffers", "opaque"}) ||
             custom_name(s);
    }
  }
  return false;
}

const char* kind_description(key_kind kind) {
  switch (kind) {
    case key_kind::boolean: return "a bool";
    case key_kind::string: return "a string";
    case key_kind::id: return "an id";
    case key_kind::id_list: return "a list of ids";
    case key_kind::string_list: return "a list of strings";
    case key_kind::dict_list: return "a list of dicts";
    case key_kind::match: return "\"exact\", \"prefix\" or \"wildcard\"";
    case key_kind::enc_algo: return "a known encryption algorithm";
    case key_kind::enc_serializer: return "a known payload serializer";
  }
  return "valid";
}

// Keys of every message that carries a payload (payload transparency, router links).
constexpr key_rule payload_keys[] = {{"enc_algo", key_kind::enc_algo},
                                     {"enc_serializer", key_kind::enc_serializer},
                                     {"enc_key", key_kind::string},
                                     {"forward_for", key_kind::dict_list}};

constexpr key_rule publish_options[] = {{"acknowledge", key_kind::boolean},
                                        {"exclude_me", key_kind::boolean},
                                        {"exclude", key_kind::id_list},
                                        {"exclude_authid", key_kind::string_list},
                                        {"exclude_authrole", key_kind::string_list},
                                        {"eligible", key_kind::id_list},
                                        {"eligible_authid", key_kind::string_list},
                                        {"eligible_authrole", key_kind::string_list},
                                        {"retain", key_kind::boolean},
                                        {"transaction_hash", key_kind::string},
                                        {"disclose_me", key_kind::boolean}};
constexpr key_rule subscribe_options[] = {{"match", key_kind::match},
                                          {"get_retained", key_kind::boolean},
                                          {"forward_for", key_kind::dict_list}};
constexpr key_rule event_details[] = {{"publisher", key_kind::id},
                                      {"publisher_authid", key_kind::string},
                                      {"publisher_authrole", key_kind::string},
                                      {"topic", key_kind::string},
                                      {"retained", key_kind::boolean},
                                      {"transaction_hash", key_kind::string},
                                      {"x_acknowledged_delivery", key_kind::boolean}};
constexpr key_rule call_options[] = {{"receive_progress", key_kind::boolean},
                                     {"disclose_me", key_kind::boolean},
                                     {"transaction_hash", key_kind::string}};
constexpr key_rule invocation_details[] = {{"caller", key_kind::id},
                                           {"caller_authid", key_kind::string},
                                           {"caller_authrole", key_kind::string},
                                           {"procedure", key_kind::string},
                                           {"receive_progress", key_kind::boolean},
                                           {"transaction_hash", key_kind::string}};
constexpr key_rule progress_keys[] = {{"progress", key_kind::boolean}};

// ---- parsing -------------------------------------------------------------------------

/// Reads the fields of one WAMP array; every failure names the message and the field.
class reader {
 public:
  reader(message_type type, std::span<value> fields) : name_(message_name(type)), fields_(fields) {}

  [[noreturn]] void fail(std::string_view what) const { invalid(name_, what); }

  void expect_length(std::size_t min, std::size_t max) const {
    const std::size_t n = fields_.size();
    if (n < min || n > max)
      fail("invalid message length " + std::to_string(n) + " (expected " + std::to_string(min) +
           (min == max ? "" : " to " + std::to_string(max)) + ")");
  }

  id get_id(std::size_t i, std::string_view field, bool allow_zero = false) const {
    if (!is_id(fields_[i], allow_zero)) fail(id_range_error(field, allow_zero));
    return fields_[i].get<id>();
  }

  std::string get_string(std::size_t i, std::string_view field) const {
    if (!fields_[i].is_string()) fail(std::string(field) + " must be a string");
    return std::move(fields_[i].get_ref<std::string&>());
  }

  /// A dict whose keys named in `rule_sets` must have the type the rule gives.
  value get_dict(std::size_t i, std::string_view field,
                 std::initializer_list<std::span<const key_rule>> rule_sets = {}) const {
    const value& d = fields_[i];
    if (!d.is_object()) fail(std::string(field) + " must be a dict");
    // Fast path: each member against the rules (a dict has few members, the rules are many).
    // A member that breaks its rule sends us to the rule-order walk, which names the first
    // broken rule, as it always did.
    bool all_match = true;
    for (const auto& [key, member] : d.items())
      for (const auto& rules : rule_sets)
        for (const auto& rule : rules)
          if (rule.key == key && !matches(member, rule.kind)) all_match = false;
    if (all_match) return std::move(fields_[i]);
    for (const auto& rules : rule_sets)
      for (const auto& rule : rules) {
        const auto it = d.find(rule.key);
        if (it != d.end() && !matches(*it, rule.kind))
          fail(std::string(field) + "." + std::string(rule.key) + " must be " +
               kind_description(rule.kind));
      }
    return std::move(fields_[i]);
  }

  /// Arguments|list and ArgumentsKw|dict from index `first` on, or one bare binary.
  payload get_payload(std::size_t first, bool allow_opaque) const {
    payload p;
    if (fields_.size() <= first) return p;
    value& args = fields_[first];
    if (args.is_binary() && allow_opaque) {
      if (fields_.size() > first + 1) fail("a binary payload must be the last element");
      p.opaque.emplace(std::move(static_cast<bytes&>(args.get_binary())));  // no copy
      return p;
    }
    if (!args.is_array())
      fail(allow_opaque ? "Arguments must be a list or a binary payload"
                        : "Arguments must be a list");
    p.args = std::move(args);
    if (fields_.size() > first + 1) {
      value& kwargs = fields_[first + 1];
      if (!kwargs.is_object()) fail("ArgumentsKw must be a dict");
      p.kwargs = std::move(kwargs);
    }
    return p;
  }

 private:
  const char* name_;
  std::span<value> fields_;
};

message parse_fields(message_type type, reader& r, std::span<const value> f) {
  switch (type) {
    case message_type::hello:
      r.expect_length(3, 3);
      return hello_message{r.get_string(1, "Realm"), r.get_dict(2, "Details")};
    case message_type::welcome:
      r.expect_length(3, 3);
      return welcome_message{r.get_id(1, "Session"), r.get_dict(2, "Details")};
    case message_type::abort:
      r.expect_length(3, 5);
      return abort_message{r.get_dict(1, "Details"), r.get_string(2, "Reason"),
                           r.get_payload(3, false)};
    case message_type::challenge:
      r.expect_length(3, 3);
      return challenge_message{r.get_string(1, "AuthMethod"), r.get_dict(2, "Extra")};
    case message_type::authenticate:
      r.expect_length(3, 3);
      return authenticate_message{r.get_string(1, "Signature"), r.get_dict(2, "Extra")};
    case message_type::goodbye:
      r.expect_length(3, 3);
      return goodbye_message{r.get_dict(1, "Details"), r.get_string(2, "Reason")};
    case message_type::error: {
      r.expect_length(5, 7);
      const auto request_type = known_type(r.get_id(1, "Request.Type"));
      if (!request_type) r.fail("Request.Type is not a known message type");
      return error_message{*request_type, r.get_id(2, "Request"),
                           r.get_dict(3, "Details", {progress_keys, payload_keys}),
                           r.get_string(4, "Error"), r.get_payload(5, true)};
    }
    case message_type::publish:
      r.expect_length(4, 6);
      return publish_message{r.get_id(1, "Request"),
                             r.get_dict(2, "Options", {publish_options, payload_keys}),
                             r.get_string(3, "Topic"), r.get_payload(4, true)};
    case message_type::published:
      r.expect_length(3, 3);
      return published_message{r.get_id(1, "Request"), r.get_id(2, "Publication")};
    case message_type::subscribe:
      r.expect_length(4, 4);
      return subscribe_message{r.get_id(1, "Request"),
                               r.get_dict(2, "Options", {subscribe_options}),
                               r.get_string(3, "Topic")};
    case message_type::subscribed:
      r.expect_length(3, 3);
      return subscribed_message{r.get_id(1, "Request"), r.get_id(2, "Subscription")};
    case message_type::unsubscribe:
      r.expect_length(3, 3);
      return unsubscribe_message{r.get_id(1, "Request"), r.get_id(2, "Subscription")};
    case message_type::unsubscribed: {
      // Router-initiated revocation: [UNSUBSCRIBED, 0, Details].
      r.expect_length(2, 3);
      unsubscribed_message m{r.get_id(1, "Request", f.size() == 3), std::nullopt};
      if (f.size() == 3) m.details = r.get_dict(2, "Details");
      return m;
    }
    case message_type::event:
      r.expect_length(4, 6);
      return event_message{r.get_id(1, "Subscription"), r.get_id(2, "Publication"),
                           r.get_dict(3, "Details", {event_details, payload_keys}),
                           r.get_payload(4, true)};
    case message_type::call:
      r.expect_length(4, 6);
      return call_message{r.get_id(1, "Request"),
                          r.get_dict(2, "Options", {call_options, payload_keys}),
                          r.get_string(3, "Procedure"), r.get_payload(4, true)};
    case message_type::cancel:
      r.expect_length(3, 3);
      return cancel_message{r.get_id(1, "Request"), r.get_dict(2, "Options")};
    case message_type::result:
      r.expect_length(3, 5);
      return result_message{r.get_id(1, "Request"),
                            r.get_dict(2, "Details", {progress_keys, payload_keys}),
                            r.get_payload(3, true)};
    case message_type::register_:
      r.expect_length(4, 4);
      return register_message{r.get_id(1, "Request"), r.get_dict(2, "Options"),
                              r.get_string(3, "Procedure")};
    case message_type::registered:
      r.expect_length(3, 3);
      return registered_message{r.get_id(1, "Request"), r.get_id(2, "Registration")};
    case message_type::unregister:
      r.expect_length(3, 3);
      return unregister_message{r.get_id(1, "Request"), r.get_id(2, "Registration")};
    case message_type::unregistered: {
      // Router-initiated revocation: [UNREGISTERED, 0, Details].
      r.expect_length(2, 3);
      unregistered_message m{r.get_id(1, "Request", f.size() == 3), std::nullopt};
      if (f.size() == 3) m.details = r.get_dict(2, "Details");
      return m;
    }
    case message_type::invocation:
      r.expect_length(4, 6);
      return invocation_message{r.get_id(1, "Request"), r.get_id(2, "Registration"),
                                r.get_dict(3, "Details", {invocation_details, payload_keys}),
                                r.get_payload(4, true)};
    case message_type::interrupt:
      r.expect_length(3, 3);
      return interrupt_message{r.get_id(1, "Request"), r.get_dict(2, "Options")};
    case message_type::yield:
      r.expect_length(3, 5);
      return yield_message{r.get_id(1, "Request"),
                           r.get_dict(2, "Options", {progress_keys, payload_keys}),
                           r.get_payload(3, true)};
  }
  throw protocol_error(errc::unknown_message_type, "unknown WAMP message type");
}

// ---- building ------------------------------------------------------------------------

/// Appends validated fields to a WAMP array, moving values out of the message.
class builder {
 public:
  builder(message_type type, std::size_t capacity) : name_(message_name(type)) {
    fields_.reserve(capacity);
    fields_.emplace_back(static_cast<std::uint64_t>(type));
  }

  builder& add_id(id i, std::string_view field, bool allow_zero = false) {
    if (!id_in_range(i, allow_zero)) fail(id_range_error(field, allow_zero));
    fields_.emplace_back(i);
    return *this;
  }
  builder& add_string(std::string& s) {
    fields_.emplace_back(std::move(s));
    return *this;
  }
  builder& add_dict(value& d, std::string_view field) {
    if (!d.is_object()) fail(std::string(field) + " must be a dict");
    fields_.push_back(std::move(d));
    return *this;
  }
  /// Emits kwargs when set, args when set or kwargs is set (absent args become []), or the
  /// opaque binary alone.
  builder& add_payload(payload& p, bool allow_opaque) {
    if (p.opaque) {
      if (!allow_opaque) fail("cannot carry an opaque payload");
      if (!p.args.is_null() || !p.kwargs.is_null())
        fail("payload has both an opaque binary and arguments");
      fields_.push_back(value::binary(std::move(*p.opaque)));
      return *this;
    }
    if (!p.args.is_null() && !p.args.is_array()) fail("Arguments must be a list");
    if (!p.kwargs.is_null() && !p.kwargs.is_object()) fail("ArgumentsKw must be a dict");
    if (p.args.is_null() && p.kwargs.is_null()) return *this;
    fields_.push_back(p.args.is_null() ? value::array() : std::move(p.args));
    if (!p.kwargs.is_null()) fields_.push_back(std::move(p.kwargs));
    return *this;
  }
  value done() { return value(std::move(fields_)); }

 private:
  [[noreturn]] void fail(std::string_view what) const { invalid(name_, what); }

  const char* name_;
  value::array_t fields_;
};

value build(hello_message& m) {
  return builder(message_type::hello, 3).add_string(m.realm).add_dict(m.details, "Details").done();
}
value build(welcome_message& m) {
  return builder(message_type::welcome, 3)
      .add_id(m.session, "Session")
      .add_dict(m.details, "Details")
      .done();
}
value build(abort_message& m) {
  return builder(message_type::abort, 5)
      .add_dict(m.details, "Details")
      .add_string(m.reason)
      .add_payload(m.data, false)
      .done();
}
value build(challenge_message& m) {
  return builder(message_type::challenge, 3)
      .add_string(m.auth_method)
      .add_dict(m.extra, "Extra")
      .done();
}
value build(authenticate_message& m) {
  return builder(message_type::authenticate, 3)
      .add_string(m.signature)
      .add_dict(m.extra, "Extra")
      .done();
}
value build(goodbye_message& m) {
  return builder(message_type::goodbye, 3)
      .add_dict(m.details, "Details")
      .add_string(m.reason)
      .done();
}
value build(error_message& m) {
  if (!known_type(static_cast<std::uint64_t>(m.request_type)))
    invalid("ERROR", "Request.Type is not a known message type");
  return builder(message_type::error, 7)
      .add_id(static_cast<id>(m.request_type), "Request.Type")
      .add_id(m.request, "Request")
      .add_dict(m.details, "Details")
      .add_string(m.error)
      .add_payload(m.data, true)
      .done();
}
value build(publish_message& m) {
  return builder(message_type::publish, 6)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .add_string(m.topic)
      .add_payload(m.data, true)
      .done();
}
value build(published_message& m) {
  return builder(message_type::published, 3)
      .add_id(m.request, "Request")
      .add_id(m.publication, "Publication")
      .done();
}
value build(subscribe_message& m) {
  return builder(message_type::subscribe, 4)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .add_string(m.topic)
      .done();
}
value build(subscribed_message& m) {
  return builder(message_type::subscribed, 3)
      .add_id(m.request, "Request")
      .add_id(m.subscription, "Subscription")
      .done();
}
value build(unsubscribe_message& m) {
  return builder(message_type::unsubscribe, 3)
      .add_id(m.request, "Request")
      .add_id(m.subscription, "Subscription")
      .done();
}
value build(unsubscribed_message& m) {
  builder b(message_type::unsubscribed, 3);
  b.add_id(m.request, "Request", m.details.has_value());
  if (m.details) b.add_dict(*m.details, "Details");
  return b.done();
}
value build(event_message& m) {
  return builder(message_type::event, 6)
      .add_id(m.subscription, "Subscription")
      .add_id(m.publication, "Publication")
      .add_dict(m.details, "Details")
      .add_payload(m.data, true)
      .done();
}
value build(call_message& m) {
  return builder(message_type::call, 6)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .add_string(m.procedure)
      .add_payload(m.data, true)
      .done();
}
value build(cancel_message& m) {
  return builder(message_type::cancel, 3)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .done();
}
value build(result_message& m) {
  return builder(message_type::result, 5)
      .add_id(m.request, "Request")
      .add_dict(m.details, "Details")
      .add_payload(m.data, true)
      .done();
}
value build(register_message& m) {
  return builder(message_type::register_, 4)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .add_string(m.procedure)
      .done();
}
value build(registered_message& m) {
  return builder(message_type::registered, 3)
      .add_id(m.request, "Request")
      .add_id(m.registration, "Registration")
      .done();
}
value build(unregister_message& m) {
  return builder(message_type::unregister, 3)
      .add_id(m.request, "Request")
      .add_id(m.registration, "Registration")
      .done();
}
value build(unregistered_message& m) {
  builder b(message_type::unregistered, 3);
  b.add_id(m.request, "Request", m.details.has_value());
  if (m.details) b.add_dict(*m.details, "Details");
  return b.done();
}
value build(invocation_message& m) {
  return builder(message_type::invocation, 6)
      .add_id(m.request, "Request")
      .add_id(m.registration, "Registration")
      .add_dict(m.details, "Details")
      .add_payload(m.data, true)
      .done();
}
value build(interrupt_message& m) {
  return builder(message_type::interrupt, 3)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .done();
}
value build(yield_message& m) {
  return builder(message_type::yield, 5)
      .add_id(m.request, "Request")
      .add_dict(m.options, "Options")
      .add_payload(m.data, true)
      .done();
}

}  // namespace

const char* message_name(message_type t) noexcept {
  switch (t) {
    case message_type::hello: return "HELLO";
    case message_type::welcome: return "WELCOME";
    case message_type::abort: return "ABORT";
    case message_type::challenge: return "CHALLENGE";
    case message_type::authenticate: return "AUTHENTICATE";
    case message_type::goodbye: return "GOODBYE";
    case message_type::error: return "ERROR";
    case message_type::publish: return "PUBLISH";
    case message_type::published: return "PUBLISHED";
    case message_type::subscribe: return "SUBSCRIBE";
    case message_type::subscribed: return "SUBSCRIBED";
    case message_type::unsubscribe: return "UNSUBSCRIBE";
    case message_type::unsubscribed: return "UNSUBSCRIBED";
    case message_type::event: return "EVENT";
    case message_type::call: return "CALL";
    case message_type::cancel: return "CANCEL";
    case message_type::result: return "RESULT";
    case message_type::register_: return "REGISTER";
    case message_type::registered: return "REGISTERED";
    case message_type::unregister: return "UNREGISTER";
    case message_type::unregistered: return "UNREGISTERED";
    case message_type::invocation: return "INVOCATION";
    case message_type::interrupt: return "INTERRUPT";
    case message_type::yield: return "YIELD";
  }
  return "UNKNOWN";
}

message_type type_of(const message& m) noexcept { return variant_types[m.index()]; }

value to_array(const message& m) { return to_array(message(m)); }

value to_array(message&& m) {
  return std::visit([](auto& typed) { return build(typed); }, m);
}

message from_array(value&& array) {
  if (!array.is_array())
    throw protocol_error(errc::invalid_message, "WAMP message must be an array");
  return detail::message_from_fields(array.get_ref<value::array_t&>());
}

message detail::message_from_fields(std::span<value> fields) {
  if (fields.empty()) throw protocol_error(errc::invalid_message, "WAMP message must not be empty");
  const value& code = fields[0];
  if (!code.is_number_integer())  // true for signed and unsigned storage
    throw protocol_error(errc::invalid_message, "WAMP message code must be an integer");
  const auto number = as_unsigned(code);
  const auto type = number ? known_type(*number) : std::nullopt;
  if (!type)
    throw protocol_error(errc::unknown_message_type, "unknown WAMP message code " + code.dump());
  reader r(*type, fields);
  return parse_fields(*type, r, fields);
}

}  // namespace wampbox::wire
