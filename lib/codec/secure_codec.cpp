#include <wampbox/codec/secure_codec.hpp>

#include "sodium_util.hpp"

#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace wampbox::codec {
namespace {

// The payload layout of docs/secure-mode.md ("Payload layout, version 1").
constexpr unsigned char version_1 = 1;
constexpr std::size_t off_kind = 1, off_flags = 2, off_reserved = 3, off_key = 4, off_sender = 12,
                      off_stream = 20, off_sequence = 28, off_time = 36, off_binding = 44,
                      off_nonce = 60, header_size = 84;
constexpr std::size_t binding_size = 16;
constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t signature_size = crypto_sign_BYTES;
constexpr std::size_t digest_size = 32;
constexpr unsigned char flag_progress = 1;
static_assert(off_nonce + nonce_size == header_size && tag_size == 16 && signature_size == 64);

constexpr std::string_view context_label = "wampbox-sec1";
constexpr std::string_view signature_label = "wampbox-sec1 sig";
constexpr std::string_view inner_serializer = "msgpack";
constexpr std::size_t max_reorder_window = 1024;

[[noreturn]] void refuse(errc code, const std::string& why) { throw payload_error(code, why); }

bool is_outgoing(payload_kind k) noexcept {
  return k == payload_kind::publish || k == payload_kind::call || k == payload_kind::yield ||
         k == payload_kind::call_error;
}

/// The kind byte of the message carrying a payload of kind `k` (sent or received).
unsigned char kind_byte(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::publish:
    case payload_kind::event: return 1;
    case payload_kind::call:
    case payload_kind::invocation: return 2;
    case payload_kind::yield:
    case payload_kind::result: return 3;
    default: return 4;
  }
}

/// Index of our stream (events, calls, answers) for an outgoing payload.
std::size_t channel_of(payload_kind k) noexcept {
  return std::min<std::size_t>(kind_byte(k), 3) - 1;
}

/// The role a sender needs to send a payload received as kind `k`.
sender_role role_needed(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::event: return sender_role::publish;
    case payload_kind::invocation: return sender_role::call;
    default: return sender_role::answer;
  }
}

const char* role_name(sender_role r) noexcept {
  switch (r) {
    case sender_role::publish: return "publish";
    case sender_role::call: return "call";
    case sender_role::answer: break;
  }
  return "answer";
}

void put_u64(unsigned char* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}

std::uint64_t get_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t as_u64(const short_id& id) noexcept { return get_u64(id.data()); }

/// Appends a context field: its length (4 bytes, big-endian) and its bytes.
void put_field(std::string& out, std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out += field;
}

/// Makes `ad` the associated data: the header, then the context of docs/secure-mode.md.
void build_associated_data(std::string& ad, const unsigned char* header, std::string_view key_hex,
                           std::string_view uri, std::string_view error_uri) {
  ad.assign(reinterpret_cast<const char*>(header), header_size);
  put_field(ad, context_label);
  put_field(ad, secure_algorithm);
  put_field(ad, inner_serializer);
  put_field(ad, key_hex);
  put_field(ad, uri);
  put_field(ad, error_uri);
}

/// The message the sender signs: the label, then BLAKE2b-256(associated data ‖ ciphertext).
std::array<unsigned char, signature_label.size() + digest_size> signed_message(
    const std::string& ad, const unsigned char* ciphertext, std::size_t size) {
  std::array<unsigned char, signature_label.size() + digest_size> m{};
  std::copy(signature_label.begin(), signature_label.end(), m.begin());
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, digest_size);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(ad.data()), ad.size());
  crypto_generichash_update(&st, ciphertext, size);
  crypto_generichash_final(&st, m.data() + signature_label.size(), digest_size);
  return m;
}

std::string hex_of(const unsigned char* data, std::size_t size) {
  std::string out(2 * size + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

bool is_lower_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool flag_set(const value& v, const char* name) {
  if (!v.is_object()) return false;
  auto it = v.find(name);
  return it != v.end() && *it == true;
}

/// Wipes the reused plaintext buffer when a scope ends, however it ends.
struct wipe_on_exit {
  std::string& buffer;
  ~wipe_on_exit() {
    detail::wipe(buffer);
    buffer.clear();
  }
};

std::shared_ptr<const secure_ring> non_null(std::shared_ptr<const secure_ring> ring) {
  return ring ? std::move(ring) : std::make_shared<const secure_ring>();
}

}  // namespace

secure_codec::secure_codec(std::shared_ptr<const secure_ring> ring, secure_options options)
    : ring_(non_null(std::move(ring))),
      options_(std::move(options)),
      // The inner codec shares ownership of the whole ring and uses its cryptobox part.
      cryptobox_(std::shared_ptr<const key_ring>(ring_, &ring_->cryptobox()), options_.cryptobox) {
  if (options_.reorder_window > max_reorder_window)
    throw std::invalid_argument("secure_options::reorder_window is at most 1024");
  if (options_.streams_per_sender == 0)
    throw std::invalid_argument("secure_options::streams_per_sender must be at least 1");
  unsigned char ids[sizeof stream_ids_];
  randombytes_buf(ids, sizeof ids);
  for (std::size_t i = 0; i < stream_ids_.size(); ++i) stream_ids_[i] = get_u64(ids + 8 * i);
}

secure_codec::secure_codec(secure_ring ring, secure_options options)
    : secure_codec(std::make_shared<const secure_ring>(std::move(ring)), std::move(options)) {}

secure_codec::~secure_codec() { detail::wipe(plain_); }

std::int64_t secure_codec::now_ms() const {
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

void secure_codec::encode(payload_kind kind, std::string_view uri, value& options,
                          wire::payload& data, call_context& call) {
  if (!is_outgoing(kind))
    refuse(errc::invalid_payload, "encode() called for an incoming payload kind");
  // A callee's ERROR is keyed by the procedure called (kept since the INVOCATION).
  const bool keyed_by_procedure = kind == payload_kind::call_error && !call.procedure.empty();
  const std::string_view keyed_uri = keyed_by_procedure ? std::string_view(call.procedure) : uri;
  if (const secure_entry* e = ring_->find(keyed_uri)) {
    seal(kind, keyed_uri, keyed_by_procedure ? uri : std::string_view(), *e, options, data, call);
  } else {
    cryptobox_.encode(kind, uri, options, data, call);
  }
  if (kind == payload_kind::call) call.procedure = uri;
}

void secure_codec::decode(payload_kind kind, std::string_view uri, const value& details,
                          wire::payload& data, call_context& call) {
  if (is_outgoing(kind))
    refuse(errc::invalid_payload, "decode() called for an outgoing payload kind");
  // An ERROR answering our CALL is keyed by the procedure we called.
  const bool keyed_by_procedure = kind == payload_kind::result_error && !call.procedure.empty();
  const std::string_view keyed_uri = keyed_by_procedure ? std::string_view(call.procedure) : uri;
  if (const secure_entry* e = ring_->find(keyed_uri)) {
    open(kind, keyed_uri, keyed_by_procedure ? uri : std::string_view(), *e, details, data, call);
  } else {
    cryptobox_.decode(kind, uri, details, data, call);
  }
  if (kind == payload_kind::invocation) call.procedure = uri;
}

void secure_codec::seal(payload_kind kind, std::string_view uri, std::string_view error_uri,
                        const secure_entry& entry, value& options, wire::payload& data,
                        call_context& call) {
  const identity_key* me = ring_->identity();
  if (me == nullptr) {
    refuse(errc::encryption_required,
           "'" + std::string(uri) + "' is in secure mode and the key ring has no identity");
  }
  const std::int64_t now = now_ms();
  const secure_entry::versioned_key* k = entry.sending_key(now);
  if (k == nullptr) {
    refuse(errc::encryption_required,
           "no key of '" + std::string(uri) + "' is valid now (secure mode)");
  }
  if (data.opaque) refuse(errc::invalid_payload, "an opaque payload cannot be encrypted again");
  if (!options.is_object() && !options.is_null())
    refuse(errc::invalid_payload, "message options are not an object");
  const bool answer = kind == payload_kind::yield || kind == payload_kind::call_error;
  if (answer && (call.binding.size() != 2 * binding_size || !is_lower_hex(call.binding))) {
    refuse(errc::encryption_required,
           "the call to '" + std::string(uri) + "' did not arrive in secure mode");
  }

  std::array<unsigned char, header_size> header{};
  header[0] = version_1;
  header[off_kind] = kind_byte(kind);
  header[off_flags] =
      kind == payload_kind::yield && flag_set(options, "progress") ? flag_progress : 0;
  std::copy(k->key.id().begin(), k->key.id().end(), header.begin() + off_key);
  std::copy(me->sender_id().begin(), me->sender_id().end(), header.begin() + off_sender);
  const std::size_t channel = channel_of(kind);
  const std::uint64_t sequence = sequences_[channel] + 1;
  put_u64(header.data() + off_stream, stream_ids_[channel]);
  put_u64(header.data() + off_sequence, sequence);
  put_u64(header.data() + off_time, static_cast<std::uint64_t>(now));
  if (kind == payload_kind::call) {
    randombytes_buf(header.data() + off_binding, binding_size);
  } else if (answer) {
    sodium_hex2bin(header.data() + off_binding, binding_size, call.binding.data(),
                   call.binding.size(), nullptr, nullptr, nullptr);
  }
  randombytes_buf(header.data() + off_nonce, nonce_size);

  wipe_on_exit guard{plain_};
  try {
    plain_ += static_cast<char>(0x92);  // MessagePack fixarray of 2: [args, kwargs]
    wire::serialize(wire::serializer_kind::msgpack, data.args, plain_);
    wire::serialize(wire::serializer_kind::msgpack, data.kwargs, plain_);
  } catch (const protocol_error& e) {
    refuse(errc::invalid_payload, std::string("cannot encode the arguments: ") + e.what());
  }
  const std::string key_hex = to_hex(k->key.id());
  build_associated_data(context_, header.data(), key_hex, uri, error_uri);

  bytes box(header_size + plain_.size() + tag_size + signature_size);
  std::copy(header.begin(), header.end(), box.begin());
  unsigned char* ciphertext = box.data() + header_size;
  unsigned long long ciphertext_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      ciphertext, &ciphertext_size, reinterpret_cast<const unsigned char*>(plain_.data()),
      plain_.size(), reinterpret_cast<const unsigned char*>(context_.data()), context_.size(),
      nullptr, header.data() + off_nonce, k->key.secret());
  const auto message = signed_message(context_, ciphertext, ciphertext_size);
  crypto_sign_detached(ciphertext + ciphertext_size, nullptr, message.data(), message.size(),
                       me->secret_key());

  if (options.is_null()) options = value::object();
  options["enc_algo"] = secure_algorithm;
  options["enc_serializer"] = inner_serializer;
  options["enc_key"] = key_hex;
  data.args = nullptr;
  data.kwargs = nullptr;
  data.opaque = std::move(box);
  sequences_[channel] = sequence;
  call.encrypted = true;
  if (kind == payload_kind::call) call.binding = hex_of(header.data() + off_binding, binding_size);
}

void secure_codec::open(payload_kind kind, std::string_view uri, std::string_view error_uri,
                        const secure_entry& entry, const value& details, wire::payload& data,
                        call_context& call) {
  const std::string where = "'" + std::string(uri) + "'";
  // 1. The envelope: nothing but x_wampbox_v1 is accepted on a secure URI.
  const auto algo = details.is_object() ? details.find("enc_algo") : details.end();
  if (!details.is_object() || algo == details.end()) {
    // Router-generated errors (wamp.*) carry no peer data and can never be encrypted.
    if (kind == payload_kind::result_error && error_uri.starts_with("wamp.")) {
      call.sender.reset();
      return;
    }
    refuse(errc::plaintext_refused, "plaintext payload on " + where + ", which is in secure mode");
  }
  if (*algo == "cryptobox") {
    refuse(errc::downgrade_refused,
           "cryptobox payload on " + where + ", which is in secure mode (x_wampbox_v1)");
  }
  if (*algo != secure_algorithm)
    refuse(errc::unknown_encryption_algorithm, std::string("enc_algo must be ") + secure_algorithm);
  const auto ser = details.find("enc_serializer");
  if (ser == details.end() || *ser != inner_serializer)
    refuse(errc::unknown_encryption_serializer, "enc_serializer must be \"msgpack\"");
  const auto key_field = details.find("enc_key");
  if (key_field == details.end() || !key_field->is_string() ||
      key_field->get_ref<const std::string&>().size() != 2 * sizeof(short_id) ||
      !is_lower_hex(key_field->get_ref<const std::string&>())) {
    refuse(errc::invalid_payload, "enc_key must be a key id (16 lower-case hex digits)");
  }
  for (const auto& [name, v] : details.items()) {
    if (name.starts_with("enc_") && name != "enc_algo" && name != "enc_serializer" &&
        name != "enc_key") {
      refuse(errc::invalid_payload, "unexpected option " + name + " in secure mode");
    }
  }
  if (!data.opaque) refuse(errc::invalid_payload, "encrypted payload is not a single binary");
  const bytes& box = *data.opaque;

  // 2. The header.
  if (box.size() < header_size + tag_size + signature_size)
    refuse(errc::invalid_payload, "secure payload too short (truncated)");
  if (box[0] != version_1) refuse(errc::invalid_payload, "secure payload version is not 1");
  if (box[off_kind] != kind_byte(kind)) {
    refuse(errc::binding_mismatch,
           "secure payload was made for another message kind (reflected or re-routed)");
  }
  const bool answer = kind == payload_kind::result || kind == payload_kind::result_error;
  if (box[off_reserved] != 0 || (box[off_flags] & ~flag_progress) != 0 ||
      (box[off_flags] != 0 && kind != payload_kind::result)) {
    refuse(errc::invalid_payload, "secure payload has reserved bits set");
  }
  if (kind == payload_kind::result &&
      ((box[off_flags] & flag_progress) != 0) != flag_set(details, "progress")) {
    refuse(errc::binding_mismatch, "the progress flag differs from the payload's");
  }
  short_id key_id, sender_id;
  std::copy_n(box.begin() + off_key, key_id.size(), key_id.begin());
  std::copy_n(box.begin() + off_sender, sender_id.size(), sender_id.begin());
  const std::string key_hex = to_hex(key_id);
  if (key_field->get_ref<const std::string&>() != key_hex)
    refuse(errc::binding_mismatch, "enc_key names another key than the payload");

  // 3. The key.
  const std::int64_t now = now_ms();
  const secure_entry::versioned_key* k = entry.find_key(key_id);
  if (k == nullptr) refuse(errc::no_key, "no key " + key_hex + " for " + where);
  if (k->validity.retire_at_ms && *k->validity.retire_at_ms <= now)
    refuse(errc::key_retired, "key " + key_hex + " of " + where + " is retired");

  // 4. The sender and its signature.
  const trusted_sender* sender = entry.find_sender(sender_id);
  if (sender == nullptr)
    refuse(errc::unknown_sender, "sender " + to_hex(sender_id) + " is not listed for " + where);
  const sender_role role = role_needed(kind);
  if ((sender->roles & static_cast<unsigned>(role)) == 0) {
    refuse(errc::sender_not_allowed,
           "sender '" + sender->name + "' may not " + role_name(role) + " on " + where);
  }
  build_associated_data(context_, box.data(), key_hex, uri, error_uri);
  const unsigned char* ciphertext = box.data() + header_size;
  const std::size_t ciphertext_size = box.size() - header_size - signature_size;
  const auto message = signed_message(context_, ciphertext, ciphertext_size);
  if (crypto_sign_verify_detached(ciphertext + ciphertext_size, message.data(), message.size(),
                                  sender->public_key.data()) != 0) {
    refuse(errc::signature_invalid, "the signature of '" + sender->name + "' does not verify for " +
                                        where + " (forged, altered, or moved from another URI)");
  }

  // 5. Decryption.
  wipe_on_exit guard{plain_};
  plain_.resize(ciphertext_size - tag_size);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain_.data()), nullptr, nullptr, ciphertext,
          ciphertext_size, reinterpret_cast<const unsigned char*>(context_.data()), context_.size(),
          box.data() + off_nonce, k->key.secret()) != 0) {
    refuse(errc::decryption_failed, "secure payload for " + where + " does not decrypt");
  }

  // 6. The call binding.
  const unsigned char* binding = box.data() + off_binding;
  std::string binding_hex = hex_of(binding, binding_size);  // kept: `box` goes before the end
  if (answer && binding_hex != call.binding)
    refuse(errc::binding_mismatch, "secure answer belongs to another call");
  if (kind == payload_kind::event &&
      std::any_of(binding, binding + binding_size, [](unsigned char b) { return b != 0; })) {
    refuse(errc::invalid_payload, "secure event carries a call binding");
  }

  // 7. Time and sequence.
  const auto time = static_cast<std::int64_t>(get_u64(box.data() + off_time));
  const std::int64_t window = options_.time_window.count();
  if (time < now - window || time > now + window)
    refuse(errc::replayed_payload, "secure payload time is outside the time window");
  const std::uint64_t stream = get_u64(box.data() + off_stream);
  const std::uint64_t sequence = get_u64(box.data() + off_sequence);
  if (sequence == 0) refuse(errc::invalid_payload, "secure payload sequence number 0");
  // The payload's identity for the overlapping-subscription rule: sender, stream, sequence.
  std::array<unsigned char, sizeof(short_id) + 16> identity;
  std::copy_n(sender_id.begin(), sender_id.size(), identity.begin());
  std::copy_n(box.data() + off_stream, 8, identity.begin() + sizeof(short_id));
  std::copy_n(box.data() + off_sequence, 8, identity.begin() + sizeof(short_id) + 8);
  const bool repeated_event =
      kind == payload_kind::event && last_event_.repeated_by(identity, call.publication, uri);
  if (!repeated_event && !fresh(sender_id, stream, sequence, time))
    refuse(errc::replayed_payload, "secure payload already received, or older than the last");

  // 8. The inner payload.
  value inner;
  try {
    inner = wire::deserialize(wire::serializer_kind::msgpack, plain_);
  } catch (const protocol_error&) {
    // The reader's reason is not passed on: it may quote decrypted bytes.
    refuse(errc::invalid_payload, "decrypted payload is not MessagePack");
  }
  if (!inner.is_array() || inner.size() != 2 || !(inner[0].is_null() || inner[0].is_array()) ||
      !(inner[1].is_null() || inner[1].is_object())) {
    refuse(errc::invalid_payload, "decrypted payload is not [args, kwargs]");
  }

  if (!repeated_event) remember(sender_id, stream, sequence, time);
  if (kind == payload_kind::event) last_event_.remember(identity, call.publication, uri);
  data.args = std::move(inner[0]);
  data.kwargs = std::move(inner[1]);
  data.opaque.reset();  // `box` and what points into it are gone from here on
  call.encrypted = true;
  call.sender = payload_sender{
      sender->name, detail::to_base64(sender->public_key.data(), sender->public_key.size())};
  if (kind == payload_kind::invocation) call.binding = std::move(binding_hex);
}

bool secure_codec::fresh(const short_id& sender, std::uint64_t stream, std::uint64_t seq,
                         std::int64_t time) const {
  auto s = replay_.find(as_u64(sender));
  if (s == replay_.end()) return true;
  auto st = s->second.streams.find(stream);
  if (st == s->second.streams.end()) return time > s->second.watermark;
  if (seq > st->second.highest) return true;
  const std::uint64_t behind = st->second.highest - seq;
  return behind < options_.reorder_window && !st->second.seen[behind];
}

void secure_codec::remember(const short_id& sender, std::uint64_t stream, std::uint64_t seq,
                            std::int64_t time) {
  sender_state& s = replay_[as_u64(sender)];
  auto it = s.streams.find(stream);
  if (it == s.streams.end()) {
    if (s.streams.size() >= options_.streams_per_sender) {
      auto oldest = std::min_element(s.streams.begin(), s.streams.end(), [](auto& a, auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      s.watermark = std::max(s.watermark, oldest->second.last_time);
      s.streams.erase(oldest);
    }
    it = s.streams.emplace(stream, stream_state{}).first;
  }
  stream_state& st = it->second;
  if (seq > st.highest) {
    const std::uint64_t shift = seq - st.highest;
    if (shift >= st.seen.size())
      st.seen.reset();
    else
      st.seen <<= shift;
    st.seen.set(0);
    st.highest = seq;
  } else {
    st.seen.set(st.highest - seq);
  }
  st.last_time = std::max(st.last_time, time);
  st.last_use = ++uses_;
}

}  // namespace wampbox::codec
