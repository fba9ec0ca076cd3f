// wampbox — end-to-end payload encryption compatible with Autobahn|Python and Crossbar.io.
//
// Wire format (docs/payload-encryption.md §1): Options/Details carry `enc_algo: "cryptobox"` and
// `enc_serializer: "json"`; the payload is one bare binary
//     nonce(24) || crypto_box_easy_afternm(plaintext, nonce, K)
// with plaintext = compact JSON {"uri":URI,"args":ARGS,"kwargs":KWARGS} and K the key ring's
// precomputed shared key for the URI (longest character-wise prefix). The originator (publisher,
// caller) encrypts PUBLISH/CALL and decrypts RESULT/ERROR; the responder (subscriber, callee)
// decrypts EVENT/INVOCATION and encrypts YIELD/ERROR. ERROR payloads are keyed by the ERROR URI.
//
// Weaknesses of the Autobahn design (§4) and what this codec does about them:
//   FIXED  §4.1 inner/outer URI: checked here, every mismatch is errc::uri_mismatch (never dropped
//               silently, never left to the session).
//   FIXED  §4.2 replay (with `replay_protection`): nonces of accepted payloads are remembered for
//               `replay_window` of the steady clock (a wall clock stepped back cannot expire them
//               early); wampbox PUBLISH payloads carry a timestamp, so a replayed EVENT
//               is refused both within (nonce) and after (age) the window. REMAINS for payloads
//               from Autobahn peers (no timestamp): replays older than the window, or after the
//               cache evicted the nonce, are accepted.
//   FIXED  §4.3 reflection / swapped or replayed answers (with `binding`): the encrypted JSON
//               carries {"wbx":{"t":type,"cid":call id,"ts":ms}}. A CALL payload presented as a
//               RESULT, a YIELD as an INVOCATION, an EVENT as an INVOCATION etc. is refused; a
//               RESULT/ERROR must echo the call's random id. REMAINS for Autobahn peers (no
//               marker), unless `require_binding` is set, which then refuses them.
//   FIXED  §4.5 fail-open / downgrade: `key_policy::strict` (the default) refuses plaintext on
//               keyed URIs and always encrypts answers to keyed procedures; `require_encryption`
//               makes sending without a key an error instead of plaintext. Plaintext ERRORs with
//               `wamp.` URIs (router-generated errors) are still accepted, as they carry no peer
//               data.
//   FIXED  §4.9 enc_serializer is checked before decrypting; malformed input never asserts.
//   REMAINS §4.4 no sender authentication among key holders: anyone holding the responder key can
//               forge events for the other subscribers (needs signatures).
//   REMAINS §4.6 metadata is not authenticated (enc_* keys, publisher/caller identity, progress,
//               request ids); only the inner URI and the wbx marker are inside the box.
//   REMAINS §4.7 no key id or rotation; lookup is the character-wise prefix, as in Autobahn
//               ("com.example.top" also matches "com.example.topology").
//   §4.8 nonces are 24 random bytes per message (no counters), so the shared K is safe to use in
//               both directions. They come from randombytes_buf in batches (one system call per
//               64 messages instead of one per message); a fork() discards the batch, so a parent
//               and its child never send the same nonce.
//
// With `binding` off the output is byte-identical to Autobahn|Python's.
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/codec/detail/last_event.hpp>
#include <wampbox/codec/key_ring.hpp>
#include <wampbox/codec/payload_codec.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace wampbox::codec {

/// Options of `cryptobox_codec`. The defaults interoperate with Autobahn|Python both ways.
struct cryptobox_options {
  /// Add the "wbx" marker (type, call id, timestamp) inside the encrypted JSON, and check it on
  /// payloads that have one. Autobahn ignores the extra field. Off: output identical to Autobahn.
  bool binding = true;
  /// Refuse encrypted payloads WITHOUT the marker (errc::binding_mismatch): only wampbox peers.
  bool require_binding = false;
  /// Refuse payloads whose nonce was already accepted, or whose timestamp is outside the window.
  /// Note: a client whose subscriptions overlap receives the same EVENT payload once per
  /// subscription; decode it once and dispatch it to every handler, or the copies are refused.
  bool replay_protection = true;
  /// How long nonces are remembered, and the accepted age (and clock skew) of timestamps.
  std::chrono::milliseconds replay_window = std::chrono::minutes(5);
  /// At most this many nonces are remembered (the oldest are forgotten first).
  std::size_t replay_cache_size = 100000;
  /// The wall clock, used only to check the senders' timestamps; empty =
  /// std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// The monotonic clock by which remembered nonces expire; empty = std::chrono::steady_clock::now.
  /// Why not the wall clock: one that steps forward past the window and back again would forget
  /// the nonces and accept the same payload twice.
  std::function<std::chrono::steady_clock::time_point()> steady_clock;
  /// TEST ONLY: fills the 24-byte nonce of each outgoing payload (to reproduce test vectors).
  /// Empty (the default, and the only safe setting) = 24 random bytes from randombytes_buf.
  std::function<void(std::span<unsigned char, 24>)> nonce_source;
};

/// The Autobahn-compatible cryptobox payload codec over a key ring.
/// Not thread-safe: use one instance per session (the ring itself may be shared).
class WAMPBOX_API cryptobox_codec final : public payload_codec {
 public:
  /// A codec over a shared, immutable key ring (null: an empty ring). Throws std::runtime_error
  /// when libsodium cannot be initialised or the fork handler cannot be installed
  /// (pthread_atfork), std::bad_alloc when memory runs out.
  explicit cryptobox_codec(std::shared_ptr<const key_ring> ring, cryptobox_options options = {});
  /// A codec owning its key ring. Throws as the constructor above.
  explicit cryptobox_codec(key_ring ring, cryptobox_options options = {});
  /// Wipes the reused plaintext buffer.
  ~cryptobox_codec() override;

  cryptobox_codec(const cryptobox_codec&) = delete;
  cryptobox_codec& operator=(const cryptobox_codec&) = delete;

  /// Encrypts an outgoing payload when the key ring says so (see the file comment); leaves it
  /// in plaintext for URIs without any entry. Throws `payload_error` (encryption_required,
  /// invalid_payload) and then leaves `options`, `data` and the codec unchanged. The inner JSON
  /// follows the wire's rule (wire/serializer.hpp, `write_json`): a string that begins with
  /// U+0000 cannot be carried (Autobahn reads it as binary), so it is invalid_payload.
  void encode(payload_kind kind, std::string_view uri, value& options, wire::payload& data,
              call_context& call) override;

  /// Decrypts an incoming payload carrying `enc_algo`, checks it, and replaces `data` with the
  /// plaintext arguments; checks plaintext against the policy. Throws `payload_error` and then
  /// leaves `data` and `call` unchanged. Inner strings beginning with U+0000 are Base64 binary,
  /// as on the wire (`read_json`). An inner JSON that would take more memory than the wire's
  /// budget allows is invalid_payload.
  void decode(payload_kind kind, std::string_view uri, const value& details, wire::payload& data,
              call_context& call) override;

  /// Announces payload transparency and cryptobox encryption (Autobahn's feature names).
  value hello_features() const override {
    return {{"payload_transparency", true}, {"payload_encryption_cryptobox", true}};
  }

  /// The key ring in use.
  const key_ring& ring() const noexcept { return *ring_; }

 private:
  using nonce = std::array<unsigned char, 24>;
  struct nonce_hash {
    std::size_t operator()(const nonce& n) const noexcept;
  };

  void encrypt(payload_kind kind, std::string_view uri, const unsigned char* k, value& options,
               wire::payload& data, call_context& call);
  void write_plaintext(payload_kind kind, std::string_view uri, const wire::payload& data,
                       call_context& call);
  std::int64_t now_ms() const;
  std::int64_t steady_ms() const;
  void random_bytes(unsigned char* out, std::size_t size);
  bool seen(const nonce& n, std::int64_t now);
  void remember(const nonce& n, std::int64_t now);
  void forget_oldest();

  std::shared_ptr<const key_ring> ring_;
  cryptobox_options options_;
  std::string plain_;      // reused buffer for the inner JSON (wiped after each use)
  std::string uri_cache_;  // last URI written, and its JSON-encoded form
  std::string uri_json_;
  std::array<unsigned char, 64 * 24> random_pool_{};  // batch of randombytes_buf output
  std::size_t random_used_ = random_pool_.size();     // bytes of the batch handed out
  std::uint64_t random_generation_ = 0;               // fork generation of the batch
  detail::last_event last_event_;
  // The replay cache: the nonces remembered, and the same in the order they were accepted, with
  // the steady ms of acceptance: a ring of `nonce_count_` entries from `nonce_oldest_`, grown by
  // doubling up to replay_cache_size. A forgotten nonce's set node is kept in `spare_node_` for
  // the next one. Why: once warm, remembering a nonce allocates nothing.
  std::unordered_set<nonce, nonce_hash> seen_nonces_;
  std::vector<std::pair<std::int64_t, nonce>> nonce_order_;
  std::size_t nonce_oldest_ = 0;
  std::size_t nonce_count_ = 0;
  std::unordered_set<nonce, nonce_hash>::node_type spare_node_;
};

}  // namespace wampbox::codec
