// wampbox — the payload codec of secure mode (`enc_algo: "x_wampbox_v1"`, docs/secure-mode.md),
// which also speaks Autobahn's cryptobox on the ring's cryptobox prefixes.
//
// For each payload the key ring decides the mode (secure_ring::find): URIs in secure mode are
// encrypted with XChaCha20-Poly1305 under the prefix's newest valid group key and signed with this
// peer's Ed25519 identity; the associated data and the signature bind the message kind, the URI,
// the error URI, the key id, the sender, the stream and sequence number, the time, the call
// binding, the progress flag and the `enc_*` values. A receiver accepts a payload only from a
// sender its ring lists for the role (publish, call, answer), under a key that is not retired,
// newer than every payload it accepted from that sender's stream, and within the time window.
// Everything else goes to an inner `cryptobox_codec` over the ring's cryptobox prefixes, whose
// behaviour (and output) is exactly that of a `cryptobox_codec` over the same ring.
//
// RPC answers and errors are keyed by the called procedure, not by the error URI: the codec keeps
// the procedure in the call's `call_context`.
#pragma once

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/detail/last_event.hpp>
#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/export.hpp>

#include <array>
#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>

namespace wampbox::codec {

/// The `enc_algo` of secure mode.
inline constexpr const char* secure_algorithm = "x_wampbox_v1";

/// Options of `secure_codec`.
struct secure_options {
  /// Accepted distance between a sender's time and ours (clock skew plus delay); older or
  /// newer payloads are refused as replayed_payload.
  std::chrono::milliseconds time_window = std::chrono::seconds(120);
  /// 0 (the default): per sender stream, only payloads newer than the last accepted one pass
  /// (a router keeps one sender's order). N (at most 1024): payloads up to N behind the newest
  /// are accepted too, once each.
  std::size_t reorder_window = 0;
  /// Streams remembered per sender (a sender's codec instance has one per kind of message);
  /// when one is forgotten, streams not seen before must be newer than its last payload.
  std::size_t streams_per_sender = 16;
  /// The wall clock (sender times, key validity); empty = std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// Options of the inner codec for cryptobox prefixes.
  cryptobox_options cryptobox;
};

/// The payload codec of secure mode and cryptobox mode over one `secure_ring`.
/// Not thread-safe: use one instance per session; keep the instance across reconnections, as
/// it holds the replay state. The ring itself may be shared.
class WAMPBOX_API secure_codec final : public payload_codec {
 public:
  /// A codec over a shared, immutable ring (null: an empty ring). Throws std::runtime_error when
  /// libsodium cannot be initialised, std::invalid_argument when reorder_window exceeds 1024 or
  /// streams_per_sender is 0.
  explicit secure_codec(std::shared_ptr<const secure_ring> ring, secure_options options = {});
  /// A codec owning its ring. Throws as the constructor above.
  explicit secure_codec(secure_ring ring, secure_options options = {});
  /// Wipes the reused plaintext buffer.
  ~secure_codec() override;

  secure_codec(const secure_codec&) = delete;
  secure_codec& operator=(const secure_codec&) = delete;

  /// Encrypts and signs an outgoing payload on a secure URI (see the file comment); hands other
  /// URIs to the cryptobox codec. Throws `payload_error` (encryption_required when the ring has
  /// no identity or no valid key, invalid_payload) and then leaves `options`, `data`, `call` and
  /// the codec unchanged.
  void encode(payload_kind kind, std::string_view uri, value& options, wire::payload& data,
              call_context& call) override;

  /// Checks, verifies and decrypts an incoming payload on a secure URI in the order of
  /// docs/secure-mode.md, and sets `call.sender`; hands other URIs to the cryptobox codec.
  /// Throws `payload_error` and then leaves `data` and `call` unchanged: plaintext_refused,
  /// downgrade_refused (a cryptobox payload), unknown_encryption_algorithm,
  /// unknown_encryption_serializer, invalid_payload, binding_mismatch, no_key, key_retired,
  /// unknown_sender, sender_not_allowed, signature_invalid, decryption_failed, replayed_payload.
  /// Plaintext ERRORs with `wamp.` URIs (the router's own errors) are accepted, as they carry no
  /// peer data; their sender stays empty.
  void decode(payload_kind kind, std::string_view uri, const value& details, wire::payload& data,
              call_context& call) override;

  /// The cryptobox codec's features (payload transparency, cryptobox).
  value hello_features() const override { return cryptobox_.hello_features(); }

  /// The key ring in use.
  const secure_ring& ring() const noexcept { return *ring_; }

 private:
  struct stream_state {
    std::uint64_t highest = 0;   // newest sequence number accepted
    std::bitset<1024> seen;      // bit i: highest - i accepted
    std::int64_t last_time = 0;  // sender time of the newest accepted payload
    std::uint64_t last_use = 0;  // when it was last used, for eviction
  };
  struct sender_state {
    std::map<std::uint64_t, stream_state> streams;
    std::int64_t watermark = std::numeric_limits<std::int64_t>::min();  // of evicted streams
  };

  void seal(payload_kind kind, std::string_view uri, std::string_view error_uri,
            const secure_entry& entry, value& options, wire::payload& data, call_context& call);
  void open(payload_kind kind, std::string_view uri, std::string_view error_uri,
            const secure_entry& entry, const value& details, wire::payload& data,
            call_context& call);
  bool fresh(const short_id& sender, std::uint64_t stream, std::uint64_t seq,
             std::int64_t time) const;
  void remember(const short_id& sender, std::uint64_t stream, std::uint64_t seq, std::int64_t time);
  std::int64_t now_ms() const;

  detail::last_event last_event_;

  std::shared_ptr<const secure_ring> ring_;
  secure_options options_;
  cryptobox_codec cryptobox_;
  std::array<std::uint64_t, 3> stream_ids_{};  // ours: events, calls, answers
  std::array<std::uint64_t, 3> sequences_{};   // last sequence number sent on each
  std::map<std::uint64_t, sender_state> replay_;
  std::uint64_t uses_ = 0;
  std::string plain_;    // reused buffer of inner payloads (wiped after each use)
  std::string context_;  // reused buffer: header ‖ context (the associated data)
};

}  // namespace wampbox::codec
