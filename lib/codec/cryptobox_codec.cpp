#include <wampbox/codec/cryptobox_codec.hpp>

#include "../wire/json_direct_reader.hpp"
#include "../wire/json_view.hpp"
#include "sodium_util.hpp"

#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include <sodium.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace wampbox::codec {

// payload_codec's key function (see payload_codec.hpp).
payload_codec::~payload_codec() = default;

namespace {

constexpr std::size_t nonce_size = crypto_box_NONCEBYTES;  // 24
constexpr std::size_t mac_size = crypto_box_MACBYTES;      // 16
static_assert(nonce_size == 24 && mac_size == 16);

/// Longest call id accepted from a peer (ours are 32 hex digits).
constexpr std::size_t max_call_id = 64;

[[noreturn]] void refuse(errc code, const std::string& why) { throw payload_error(code, why); }

/// Refuses a decrypted payload that the JSON reader refused. The reader's reason is not passed
/// on: it may quote decrypted bytes.
[[noreturn]] void refuse_unreadable(const protocol_error& e) {
  refuse(errc::invalid_payload, e.code() == errc::message_too_large
                                    ? "decrypted payload would take too much memory once read"
                                    : "decrypted payload is not valid JSON");
}

bool is_outgoing(payload_kind k) noexcept {
  return k == payload_kind::publish || k == payload_kind::call || k == payload_kind::yield ||
         k == payload_kind::call_error;
}

/// The role whose K this client uses for a payload of kind `k`.
key_role role_of(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::publish:
    case payload_kind::call:
    case payload_kind::result:
    case payload_kind::result_error: return key_role::originator;
    default: return key_role::responder;
  }
}

/// The wbx "t" of the message that carries a payload of kind `k` (sent or received).
const char* wire_type(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::publish:
    case payload_kind::event: return "publish";
    case payload_kind::call:
    case payload_kind::invocation: return "call";
    case payload_kind::yield:
    case payload_kind::result: return "yield";
    default: return "error";
  }
}

const char* role_name(key_role r) noexcept {
  return r == key_role::originator ? "originator" : "responder";
}

/// A call id a peer may send: short, and only characters that need no JSON escaping.
bool valid_call_id(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_call_id && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
  });
}

/// Incremented in the child after every fork(): random batches drawn before it are discarded.
std::atomic<std::uint64_t> fork_generation{1};

void register_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (::pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) != 0) {
      throw std::runtime_error("pthread_atfork failed");
    }
  });
}

/// A member of the decrypted inner object that may be there with a wrong type.
template <typename T>
struct inner_member {
  bool present = false;
  std::optional<T> value;  // nullopt when present with another type
};

/// What decode checks in the decrypted inner object, as either reader found it (the direct
/// reader, or simdjson's DOM for what the direct reader declines). The strings lie in the
/// plaintext or the DOM.
struct inner_fields {
  bool is_object = false;
  std::optional<std::string_view> uri;  // nullopt: absent, or not a string
  bool args_valid = true;               // absent, null or a list
  bool kwargs_valid = true;             // absent, null or a dict
  bool has_wbx = false;
  bool wbx_is_object = false;
  std::optional<std::string_view> t;  // wbx.t; nullopt: absent, or not a string
  inner_member<std::string_view> cid;
  inner_member<std::int64_t> ts;
};

/// Reads the inner object `text` with the direct reader: the checked members in place, the
/// arguments into `args` and `kwargs`. False when the text is outside the reader's subset or
/// not of the usual shape (a member of another type, a duplicate key): then the DOM path reads
/// it and gives the same result, or the precise refusal.
bool read_inner_direct(std::string_view text, inner_fields& f, value& args, value& kwargs) {
  if (text.size() > wire::detail::direct_json_limit) return false;
  wire::detail::direct_json_reader reader(text);
  // A duplicate key, which read_json resolves to the last one, is left to the DOM path.
  auto first = [](bool& present) { return !std::exchange(present, true); };
  bool has_uri = false, has_args = false, has_kwargs = false;
  auto read_string = [&](std::optional<std::string_view>& out) {
    return reader.read_plain_string(out.emplace());
  };
  auto skip = [&] {  // a member decode does not use: read, then wiped and dropped
    value ignored;
    const bool read = reader.read_value(ignored);
    detail::wipe(ignored);
    return read;
  };
  auto read_wbx = [&](std::string_view key) {
    if (key == "t") return !f.t && read_string(f.t);
    if (key == "cid") return first(f.cid.present) && read_string(f.cid.value);
    if (key == "ts") {
      value ts;
      if (!first(f.ts.present) || !reader.read_value(ts) || !ts.is_number_integer()) return false;
      f.ts.value = ts.get<std::int64_t>();
      return true;
    }
    return skip();
  };
  const bool read = reader.read_members([&](std::string_view key) {
    if (key == "uri") return first(has_uri) && read_string(f.uri);
    if (key == "args") return first(has_args) && reader.read_value(args);
    if (key == "kwargs") return first(has_kwargs) && reader.read_value(kwargs);
    if (key == "wbx") return first(f.has_wbx) && reader.read_members(read_wbx);
    return skip();
  });
  if (!read || !reader.at_end()) return false;
  f.is_object = true;
  f.wbx_is_object = f.has_wbx;
  f.args_valid = args.is_null() || args.is_array();
  f.kwargs_valid = kwargs.is_null() || kwargs.is_object();
  return true;
}

/// The members of the inner object `inner` that decode checks, into `f`; the arguments' views.
std::pair<std::optional<wire::detail::json_view>, std::optional<wire::detail::json_view>>
read_inner_dom(wire::detail::json_view inner, inner_fields& f) {
  f.is_object = inner.is_object();
  const auto [uri, args, kwargs, wbx] = inner.members({"uri", "args", "kwargs", "wbx"});
  if (uri && uri->is_string()) f.uri = uri->get_string();
  f.args_valid = !args || args->is_null() || args->is_array();
  f.kwargs_valid = !kwargs || kwargs->is_null() || kwargs->is_object();
  f.has_wbx = wbx.has_value();
  f.wbx_is_object = wbx && wbx->is_object();
  if (f.wbx_is_object) {
    const auto [t, cid, ts] = wbx->members({"t", "cid", "ts"});
    if (t && t->is_string()) f.t = t->get_string();
    f.cid.present = cid.has_value();
    if (cid && cid->is_string()) f.cid.value = cid->get_string();
    f.ts.present = ts.has_value();
    if (ts && ts->is_number_integer()) f.ts.value = ts->get_int64();
  }
  return {args, kwargs};
}

/// Checks the decrypted inner object's members, found as `f`, for a payload of kind `kind` on
/// `uri`, at `now` (ms since the epoch): the call id an INVOCATION binds its answer to. Throws
/// payload_error.
std::string check_inner(payload_kind kind, std::string_view uri, const inner_fields& f,
                        const call_context& call, const cryptobox_options& options,
                        std::int64_t now) {
  if (!f.is_object) refuse(errc::invalid_payload, "decrypted payload is not a JSON object");
  if (!f.uri) refuse(errc::invalid_payload, "decrypted payload has no \"uri\" string");
  if (*f.uri != uri) {
    refuse(errc::uri_mismatch,
           "encrypted payload was made for another URI than '" + std::string(uri) + "'");
  }
  if (!f.args_valid) refuse(errc::invalid_payload, "decrypted \"args\" is neither a list nor null");
  if (!f.kwargs_valid)
    refuse(errc::invalid_payload, "decrypted \"kwargs\" is neither a dict nor null");
  if (!f.has_wbx) {
    if (options.require_binding)
      refuse(errc::binding_mismatch, "encrypted payload carries no wbx binding (not from wampbox)");
    return {};
  }
  if (!f.wbx_is_object) refuse(errc::invalid_payload, "decrypted \"wbx\" is not an object");
  if (f.t != wire_type(kind)) {
    refuse(errc::binding_mismatch, std::string("encrypted payload is not a ") + wire_type(kind) +
                                       " payload (reflected or re-routed)");
  }
  if (f.cid.present && (!f.cid.value || !valid_call_id(*f.cid.value)))
    refuse(errc::invalid_payload, "decrypted \"wbx.cid\" is not a call id");
  if ((kind == payload_kind::result || kind == payload_kind::result_error) &&
      !call.binding.empty() && f.cid.value != call.binding) {
    refuse(errc::binding_mismatch, "encrypted answer belongs to another call");
  }
  if (f.ts.present) {
    if (!f.ts.value) refuse(errc::invalid_payload, "decrypted \"wbx.ts\" is not an integer");
    const std::int64_t window = options.replay_window.count();
    if (options.replay_protection && (*f.ts.value < now - window || *f.ts.value > now + window))
      refuse(errc::replayed_payload, "encrypted payload timestamp is outside the replay window");
  }
  return kind == payload_kind::invocation && f.cid.value ? std::string(*f.cid.value)
                                                         : std::string();
}

/// Wipes the reused plaintext buffer when a scope ends, however it ends.
struct wipe_on_exit {
  std::string& buffer;
  ~wipe_on_exit() {
    detail::wipe(buffer);
    buffer.clear();
  }
};

}  // namespace

std::size_t cryptobox_codec::nonce_hash::operator()(const nonce& n) const noexcept {
  std::size_t h;  // nonces are random: any 8 of their bytes make a good hash
  std::memcpy(&h, n.data(), sizeof h);
  return h;
}

cryptobox_codec::cryptobox_codec(std::shared_ptr<const key_ring> ring, cryptobox_options options)
    : ring_(std::move(ring)), options_(std::move(options)) {
  detail::ensure_sodium();
  register_fork_handler();
  if (!ring_) ring_ = std::make_shared<const key_ring>();
}

cryptobox_codec::cryptobox_codec(key_ring ring, cryptobox_options options)
    : cryptobox_codec(std::make_shared<const key_ring>(std::move(ring)), std::move(options)) {}

cryptobox_codec::~cryptobox_codec() { detail::wipe(plain_); }

std::int64_t cryptobox_codec::now_ms() const {
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

std::int64_t cryptobox_codec::steady_ms() const {
  const auto now =
      options_.steady_clock ? options_.steady_clock() : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

void cryptobox_codec::random_bytes(unsigned char* out, std::size_t size) {
  const std::uint64_t generation = fork_generation.load();
  if (random_used_ + size > random_pool_.size() || random_generation_ != generation) {
    randombytes_buf(random_pool_.data(), random_pool_.size());
    random_used_ = 0;
    random_generation_ = generation;
  }
  std::copy_n(random_pool_.begin() + static_cast<std::ptrdiff_t>(random_used_), size, out);
  sodium_memzero(random_pool_.data() + random_used_, size);  // handed out once, never again
  random_used_ += size;
}

void cryptobox_codec::encode(payload_kind kind, std::string_view uri, value& options,
                             wire::payload& data, call_context& call) {
  if (!is_outgoing(kind))
    refuse(errc::invalid_payload, "encode() called for an incoming payload kind");
  const key_ring::entry* e = ring_->find(uri);
  bool must_encrypt = e != nullptr;
  if (kind == payload_kind::yield) {
    // Autobahn encrypts a YIELD only when the INVOCATION was encrypted; strict always does.
    must_encrypt = call.encrypted || (e != nullptr && e->policy == key_policy::strict);
  } else if (kind == payload_kind::call_error) {
    // Keyed by the error URI (Autobahn); an encrypted call's error data never goes out in clear.
    must_encrypt = e != nullptr || (call.encrypted && !data.empty());
  }
  if (!must_encrypt) return;

  const key_role role = role_of(kind);
  if (e == nullptr || !e->k) {
    refuse(errc::encryption_required,
           "no key for '" + std::string(uri) + "', whose payloads must be encrypted");
  }
  const unsigned char* k = e->k->shared_key(role);
  if (k == nullptr) {
    refuse(errc::encryption_required,
           "the key for '" + std::string(uri) + "' has no " + role_name(role) + " private key");
  }
  if (data.opaque) refuse(errc::invalid_payload, "an opaque payload cannot be encrypted again");
  if (!options.is_object() && !options.is_null()) {
    refuse(errc::invalid_payload, "message options are not an object");
  }
  encrypt(kind, uri, k, options, data, call);
}

void cryptobox_codec::write_plaintext(payload_kind kind, std::string_view uri,
                                      const wire::payload& data, call_context& call) {
  if (uri != uri_cache_) {  // the same URI is usually sent again and again
    // Both are made before either is replaced: a URI that cannot be written (not UTF-8) or a
    // failed allocation leaves the cache as it was, naming the URI whose JSON it holds.
    std::string name(uri);
    std::string encoded;
    wire::write_json(value(name), encoded);
    uri_cache_.swap(name);
    uri_json_.swap(encoded);
  }
  plain_ += "{\"uri\":";
  plain_ += uri_json_;
  plain_ += ",\"args\":";
  wire::write_json(data.args, plain_);
  plain_ += ",\"kwargs\":";
  wire::write_json(data.kwargs, plain_);
  if (!options_.binding) {
    plain_ += '}';
    return;
  }
  plain_ += ",\"wbx\":{\"t\":\"";
  plain_ += wire_type(kind);
  plain_ += '"';
  if (kind == payload_kind::call) {
    unsigned char id[16];
    random_bytes(id, sizeof id);
    char hex[2 * sizeof id + 1];
    sodium_bin2hex(hex, sizeof hex, id, sizeof id);
    call.binding.assign(hex, 2 * sizeof id);
  }
  if (kind != payload_kind::publish && !call.binding.empty()) {
    plain_ += ",\"cid\":";
    wire::write_json(value(call.binding), plain_);
  }
  if (kind == payload_kind::publish) {
    plain_ += ",\"ts\":";
    plain_ += std::to_string(now_ms());
  }
  plain_ += "}}";
}

void cryptobox_codec::encrypt(payload_kind kind, std::string_view uri, const unsigned char* k,
                              value& options, wire::payload& data, call_context& call) {
  wipe_on_exit guard{plain_};
  try {
    write_plaintext(kind, uri, data, call);
  } catch (const protocol_error& e) {
    refuse(errc::invalid_payload, std::string("cannot encode the arguments: ") + e.what());
  }
  bytes box(nonce_size + mac_size + plain_.size());
  if (options_.nonce_source) {
    options_.nonce_source(std::span<unsigned char, nonce_size>(box.data(), nonce_size));
  } else {
    random_bytes(box.data(), nonce_size);
  }
  crypto_box_easy_afternm(box.data() + nonce_size,
                          reinterpret_cast<const unsigned char*>(plain_.data()), plain_.size(),
                          box.data(), k);
  if (options.is_null()) options = value::object();
  options["enc_algo"] = "cryptobox";
  options["enc_serializer"] = "json";
  data.args = nullptr;
  data.kwargs = nullptr;
  data.opaque = std::move(box);
  call.encrypted = true;
}

void cryptobox_codec::decode(payload_kind kind, std::string_view uri, const value& details,
                             wire::payload& data, call_context& call) {
  if (is_outgoing(kind))
    refuse(errc::invalid_payload, "decode() called for an outgoing payload kind");
  const key_ring::entry* e = ring_->find(uri);
  const auto algo = details.is_object() ? details.find("enc_algo") : details.end();
  if (!details.is_object() || algo == details.end()) {
    // Router-generated errors (wamp.*) carry no peer data and can never be encrypted.
    const bool router_error = kind == payload_kind::result_error && uri.starts_with("wamp.");
    if (e != nullptr && e->policy == key_policy::strict && !router_error) {
      refuse(errc::plaintext_refused,
             "plaintext payload on '" + std::string(uri) + "', which must be encrypted");
    }
    return;
  }

  // Envelope checks come first: nothing is decrypted for an algorithm we do not speak (§4.9).
  // Compared as strings: comparing a value with a literal would first make a value of it.
  if (!algo->is_string() || algo->get_ref<const std::string&>() != "cryptobox") {
    refuse(errc::unknown_encryption_algorithm, "enc_algo must be \"cryptobox\"");
  }
  const auto ser = details.find("enc_serializer");
  if (ser == details.end() || !ser->is_string() || ser->get_ref<const std::string&>() != "json") {
    refuse(errc::unknown_encryption_serializer, "enc_serializer must be \"json\"");
  }
  if (!data.opaque) refuse(errc::invalid_payload, "encrypted payload is not a single binary");
  const key_role role = role_of(kind);
  if (e == nullptr || !e->k) refuse(errc::no_key, "no key for '" + std::string(uri) + "'");
  const unsigned char* k = e->k->shared_key(role);
  if (k == nullptr) {
    refuse(errc::no_key,
           "the key for '" + std::string(uri) + "' has no " + role_name(role) + " private key");
  }
  const bytes& box = *data.opaque;
  if (box.size() < nonce_size + mac_size)
    refuse(errc::decryption_failed, "encrypted payload too short");

  std::string call_id;
  value args;
  value kwargs;
  {
    wipe_on_exit guard{plain_};
    const std::size_t plain_size = box.size() - nonce_size - mac_size;
    // The padding lets the JSON reader parse the plaintext in place, without a copy.
    plain_.resize(plain_size + wire::json_padding);
    if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(plain_.data()),
                                     box.data() + nonce_size, box.size() - nonce_size, box.data(),
                                     k) != 0) {
      refuse(errc::decryption_failed, "payload for '" + std::string(uri) +
                                          "' does not authenticate (tampered, or wrong key)");
    }
    const std::string_view text(plain_.data(), plain_size);
    inner_fields f;
    if (read_inner_direct(text, f, args, kwargs)) {
      try {
        call_id = check_inner(kind, uri, f, call, options_, now_ms());
      } catch (...) {
        detail::wipe(args);
        detail::wipe(kwargs);
        throw;
      }
    } else {
      detail::wipe(args);
      detail::wipe(kwargs);
      // Read in place: only the arguments become values; the rest is checked where it lies.
      std::optional<wire::detail::parsed_json> parsed;
      try {
        parsed.emplace(text);
      } catch (const protocol_error& e) {
        refuse_unreadable(e);
      }
      f = inner_fields{};
      const auto [inner_args, inner_kwargs] = read_inner_dom(parsed->root(), f);
      call_id = check_inner(kind, uri, f, call, options_, now_ms());
      try {
        args = inner_args ? inner_args->take_value() : value();
        kwargs = inner_kwargs ? inner_kwargs->take_value() : value();
      } catch (const protocol_error& e) {
        refuse_unreadable(e);
      }
    }
  }

  nonce n;
  std::copy_n(box.begin(), nonce_size, n.begin());
  if (options_.replay_protection) {
    const std::int64_t steady_now = steady_ms();
    if (!seen(n, steady_now))
      remember(n, steady_now);
    else if (kind != payload_kind::event || !last_event_.repeated_by(n, call.publication, uri))
      refuse(errc::replayed_payload, "encrypted payload was already received");
  }
  if (kind == payload_kind::event) last_event_.remember(n, call.publication, uri);
  data.args = std::move(args);
  data.kwargs = std::move(kwargs);
  data.opaque.reset();
  call.encrypted = true;
  if (kind == payload_kind::invocation) call.binding = std::move(call_id);
}

bool cryptobox_codec::seen(const nonce& n, std::int64_t now) {
  const std::int64_t horizon = now - options_.replay_window.count();
  while (nonce_count_ > 0 && nonce_order_[nonce_oldest_].first < horizon) forget_oldest();
  return seen_nonces_.contains(n);
}

void cryptobox_codec::remember(const nonce& n, std::int64_t now) {
  while (nonce_count_ > 0 && nonce_count_ >= options_.replay_cache_size) forget_oldest();
  if (options_.replay_cache_size == 0) return;
  if (nonce_count_ == nonce_order_.size()) {
    // Full: double the ring (oldest first again), up to the cache size.
    std::vector<std::pair<std::int64_t, nonce>> grown(
        std::min(std::max<std::size_t>(2 * nonce_order_.size(), 16), options_.replay_cache_size));
    for (std::size_t i = 0; i < nonce_count_; ++i)
      grown[i] = nonce_order_[(nonce_oldest_ + i) % nonce_order_.size()];
    nonce_order_.swap(grown);
    nonce_oldest_ = 0;
  }
  if (spare_node_) {
    spare_node_.value() = n;
    seen_nonces_.insert(std::move(spare_node_));
  } else {
    seen_nonces_.insert(n);
  }
  nonce_order_[(nonce_oldest_ + nonce_count_) % nonce_order_.size()] = {now, n};
  ++nonce_count_;
}

void cryptobox_codec::forget_oldest() {
  auto node = seen_nonces_.extract(nonce_order_[nonce_oldest_].second);
  if (!spare_node_) spare_node_ = std::move(node);
  nonce_oldest_ = (nonce_oldest_ + 1) % nonce_order_.size();
  --nonce_count_;
}

}  // namespace wampbox::codec
