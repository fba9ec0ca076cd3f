// wampbox — the payload hook: the session calls it for every application payload.
//
// The session never looks inside payloads; a codec (e.g. `cryptobox_codec`) may replace the
// arguments of outgoing PUBLISH/CALL/YIELD/ERROR with an opaque binary plus `enc_*` options,
// and turn the opaque binary of incoming EVENT/INVOCATION/RESULT/ERROR back into arguments.
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/codec/payload_sender.hpp>
#include <wampbox/wire/payload.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace wampbox::codec {

/// Which message a payload travels in, seen from this client.
enum class payload_kind {
  publish,       ///< outgoing PUBLISH (we are the originator)
  event,         ///< incoming EVENT (we are the responder)
  call,          ///< outgoing CALL (originator)
  invocation,    ///< incoming INVOCATION (responder)
  yield,         ///< outgoing YIELD, progressive or final (responder)
  result,        ///< incoming RESULT, progressive or final (originator)
  call_error,    ///< outgoing ERROR answering an INVOCATION (responder)
  result_error,  ///< incoming ERROR answering our CALL (originator)
};

/// What the codec remembers about one call, from request to answer. The session keeps one per
/// pending call (caller side) and per pending invocation (callee side) and hands it back.
struct call_context {
  bool encrypted = false;  ///< the request (CALL or INVOCATION) travelled encrypted
  std::string binding;     ///< codec data the answer must carry (e.g. a random call id)
  /// EVENT only: the router's publication id (0: unknown). One publication reaches each
  /// matching subscription (say an exact and a prefix one) as its own EVENT with this id and the
  /// same payload, which a codec's replay check must let through.
  wire::id publication = 0;
  /// The called procedure, kept by codecs that key a call's ERROR by its procedure rather than
  /// by the error URI (secure mode): set by the codec on CALL (encode) and INVOCATION (decode).
  std::string procedure = {};
  /// Set by `decode` when the codec authenticated the payload's sender (secure mode); the
  /// session hands it to the application (event, invocation, call_result).
  std::optional<payload_sender> sender = std::nullopt;
};

/// The payload hook. Implementations throw `wampbox::payload_error` to refuse a payload; the
/// session then fails the operation (outgoing) or reports the error (incoming), never passing
/// plaintext on and never crashing.
class WAMPBOX_API payload_codec {
 public:
  /// Defined in the library (the class's key function): its vtable and typeinfo live there,
  /// exported the same at every optimization level.
  virtual ~payload_codec();

  /// Outgoing PUBLISH/CALL/YIELD/ERROR. `uri` is the topic, procedure (also for YIELD) or error
  /// URI; `options` are the message's Options/Details; `call` is the call's context (fresh for
  /// CALL and PUBLISH, the INVOCATION's for YIELD and ERROR).
  virtual void encode(payload_kind kind, std::string_view uri, value& options, wire::payload& data,
                      call_context& call) = 0;

  /// Incoming EVENT/INVOCATION/RESULT/ERROR. `uri` is the topic (details.topic or the
  /// subscription's), the procedure (details.procedure or the registration's), the called
  /// procedure (RESULT) or the error URI; `call` as for `encode` (fresh for EVENT/INVOCATION,
  /// with `publication` set for EVENT). A payload the codec decrypts must leave `data.opaque`
  /// empty (the session hands a remaining opaque payload to the application as binary); a
  /// payload it leaves alone stays as it came.
  virtual void decode(payload_kind kind, std::string_view uri, const value& details,
                      wire::payload& data, call_context& call) = 0;

  /// Features the codec adds to each role's HELLO features (e.g. `payload_transparency`);
  /// the session announces nothing about payloads by itself. Default: none.
  virtual value hello_features() const { return value::object(); }
};

}  // namespace wampbox::codec
