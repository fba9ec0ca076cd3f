// wampbox — error codes and exception types shared by every layer.
#pragma once

#include <wampbox/export.hpp>

#include <nlohmann/json.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace wampbox {

/// Error conditions raised by wampbox itself (not by the network stack).
enum class errc {
  // wire
  malformed_message = 1,  ///< bytes that do not parse as the serializer's format
  invalid_message,        ///< parses, but is not a valid WAMP message (wrong types, length, code)
  unknown_message_type,   ///< a message code wampbox does not know
  message_too_large,      ///< above the negotiated or configured maximum size
  // transport
  invalid_url,              ///< the URL names no supported transport or address
  handshake_failed,         ///< the peer refused or botched the transport handshake
  serializer_unsupported,   ///< the router does not speak the requested serializer
  max_length_unacceptable,  ///< RawSocket: the router refused the maximum length
  use_of_reserved_bits,     ///< RawSocket: the router complains of reserved bits
  connection_limit,         ///< RawSocket: the router has too many connections
  transport_closed,         ///< the transport closed while an operation was pending
  tls_verification_failed,  ///< TLS: the router's certificate or host name did not verify
  tls_setup_failed,         ///< TLS: CA, certificate or key files could not be used
  keepalive_timeout,        ///< the router did not answer a keep-alive ping in time
  // session
  not_joined,          ///< the operation needs an established session
  already_joined,      ///< join while a session is open
  session_aborted,     ///< the router sent ABORT
  session_closed,      ///< the session ended (GOODBYE or transport loss) with the operation pending
  protocol_violation,  ///< the peer broke the WAMP protocol
  wamp_error,          ///< the router or a peer answered with a WAMP ERROR
  authentication_failed,  ///< a CHALLENGE could not be answered
  // payload codec (encryption)
  encryption_required,            ///< a URI configured for encryption has no usable key
  plaintext_refused,              ///< plaintext arrived on a URI whose policy is strict
  decryption_failed,              ///< authentication tag did not verify (tampered or wrong key)
  no_key,                         ///< an encrypted payload arrived for a URI without a key
  uri_mismatch,                   ///< the encrypted inner URI differs from the envelope URI
  unknown_encryption_algorithm,   ///< enc_algo other than "cryptobox"
  unknown_encryption_serializer,  ///< enc_serializer other than "json"
  binding_mismatch,               ///< the payload belongs to another message direction or call
  replayed_payload,               ///< a payload (nonce) already seen, or too old
  invalid_payload,                ///< decrypted bytes are not a valid inner payload
  invalid_key,                    ///< a key is malformed (length, encoding)
  // secure mode (x_wampbox_v1, docs/secure-mode.md)
  downgrade_refused,   ///< a cryptobox payload arrived on a URI in secure mode
  key_retired,         ///< the payload's key is known but retired
  unknown_sender,      ///< the payload's sender is not in the key ring for this URI
  sender_not_allowed,  ///< the sender is listed, but not for this role (publish, call, answer)
  signature_invalid,   ///< the sender's signature does not verify (forged, altered or moved)
  // reconnecting client
  not_connected,  ///< no session is joined (the client is reconnecting, stopped, or not running)
};

/// The error category of `wampbox::errc`.
WAMPBOX_API const boost::system::error_category& wampbox_category() noexcept;

/// Makes an error_code from a wampbox error condition.
WAMPBOX_API boost::system::error_code make_error_code(errc e) noexcept;

/// Base of every exception wampbox throws: an error code plus a reason for users.
class WAMPBOX_API error : public boost::system::system_error {
 public:
  /// `what()` is `what` (for a `wampbox::errc` code followed by ": " and the code's message,
  /// unless `what` already says it; the code's message alone when `what` is empty), never
  /// Boost's source location (which `error_code::what()` would append).
  error(boost::system::error_code code, const std::string& what);
  error(errc code, const std::string& what) : error(make_error_code(code), what) {}
  /// The reason for users; `code()` keeps the error code.
  const char* what() const noexcept override { return message_.c_str(); }

 protected:
  /// For subclasses whose reason is exactly `message`.
  struct verbatim {};
  error(boost::system::error_code code, std::string message, verbatim)
      : boost::system::system_error(code), message_(std::move(message)) {}

 private:
  std::string message_;
};

/// Thrown for bytes or arrays that are not a valid WAMP message.
class WAMPBOX_API protocol_error : public error {
 public:
  using error::error;
};

/// Thrown by payload codecs: encryption refused or decryption failed.
class WAMPBOX_API payload_error : public error {
 public:
  using error::error;
  /// The WAMP error URI that reports this failure to a remote caller
  /// (`wamp.error.encryption.*`).
  std::string uri() const;
};

/// A WAMP ERROR (or ABORT) received from the router or a peer, with its URI and payload.
/// `what()` is the URI, followed by ": " and the ABORT's (or GOODBYE's) Details.message if
/// there is one.
class WAMPBOX_API wamp_error : public error {
 public:
  wamp_error(std::string uri, nlohmann::json args = nullptr, nlohmann::json kwargs = nullptr,
             errc code = errc::wamp_error, const std::string& message = {});
  /// The error URI, e.g. `wamp.error.no_such_procedure`.
  const std::string& uri() const noexcept { return uri_; }
  /// Positional error arguments (array), or null.
  const nlohmann::json& args() const noexcept { return args_; }
  /// Keyword error arguments (object), or null.
  const nlohmann::json& kwargs() const noexcept { return kwargs_; }

 private:
  std::string uri_;
  nlohmann::json args_;
  nlohmann::json kwargs_;
};

/// The message of the exception `e` holds, for users: `what()` of a std::exception (a
/// wampbox::error's reason, a wamp_error's URI and message), "unknown error" for anything else,
/// empty for a null `e`. For the std::exception_ptr that completion handlers receive.
WAMPBOX_API std::string exception_message(std::exception_ptr e);

}  // namespace wampbox

namespace boost::system {
template <>
struct is_error_code_enum<wampbox::errc> : std::true_type {};
}  // namespace boost::system
