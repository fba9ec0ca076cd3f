#include <wampbox/error.hpp>

#include <cctype>

namespace wampbox {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "wampbox"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_message: return "malformed message";
      case errc::invalid_message: return "invalid WAMP message";
      case errc::unknown_message_type: return "unknown WAMP message type";
      case errc::message_too_large: return "message too large";
      case errc::invalid_url: return "invalid URL";
      case errc::handshake_failed: return "transport handshake failed";
      case errc::serializer_unsupported: return "serializer not supported by the router";
      case errc::max_length_unacceptable:
        return "maximum message length unacceptable to the router";
      case errc::use_of_reserved_bits: return "router reports use of reserved bits";
      case errc::connection_limit: return "router connection limit reached";
      case errc::transport_closed: return "transport closed";
      case errc::tls_verification_failed: return "TLS certificate verification failed";
      case errc::tls_setup_failed: return "TLS setup failed";
      case errc::keepalive_timeout:
        return "the router did not answer the keep-alive ping in time (router down or "
               "connection half-open)";
      case errc::not_joined: return "session not joined";
      case errc::already_joined: return "session already joined";
      case errc::session_aborted: return "session aborted by the router";
      case errc::session_closed: return "session closed";
      case errc::protocol_violation: return "protocol violation";
      case errc::wamp_error: return "WAMP error";
      case errc::authentication_failed: return "authentication failed";
      case errc::encryption_required: return "encryption required but no key for this URI";
      case errc::plaintext_refused: return "plaintext payload refused on an encrypted URI";
      case errc::decryption_failed: return "decryption failed (tampered payload or wrong key)";
      case errc::no_key: return "encrypted payload for a URI without a key";
      case errc::uri_mismatch: return "encrypted URI does not match the message URI";
      case errc::unknown_encryption_algorithm: return "unknown enc_algo";
      case errc::unknown_encryption_serializer: return "unknown enc_serializer";
      case errc::binding_mismatch: return "encrypted payload bound to another message or call";
      case errc::replayed_payload: return "replayed or stale encrypted payload";
      case errc::invalid_payload: return "invalid decrypted payload";
      case errc::invalid_key: return "invalid key";
      case errc::downgrade_refused: return "cryptobox payload refused on a URI in secure mode";
      case errc::key_retired: return "encrypted payload under a retired key";
      case errc::unknown_sender: return "payload from a sender the key ring does not list";
      case errc::sender_not_allowed: return "sender not allowed in this role on this URI";
      case errc::signature_invalid:
        return "sender signature does not verify (forged, altered or moved)";
      case errc::not_connected: return "not connected to a router";
    }
    return "unknown wampbox error";
  }
};

}  // namespace

const boost::system::error_category& wampbox_category() noexcept {
  static const category instance;
  return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), wampbox_category()};
}

namespace {

bool contains_ignoring_case(const std::string& text, const std::string& part) {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(text).find(lower(part)) != std::string::npos;
}

}  // namespace

error::error(boost::system::error_code code, const std::string& what)
    : boost::system::system_error(code), message_(what) {
  // Only wampbox's own messages are appended: they are short and stable. A system or Asio
  // message would repeat or contradict what the caller wrote for the user.
  const auto said = code.message();
  if (message_.empty())
    message_ = said;
  else if (code.category() == wampbox_category() && !contains_ignoring_case(message_, said))
    message_ += ": " + said;
}

std::string payload_error::uri() const {
  switch (static_cast<errc>(code().value())) {
    case errc::decryption_failed: return "wamp.error.encryption.decrypt_error";
    case errc::uri_mismatch: return "wamp.error.encryption.trusted_uri_mismatch";
    case errc::no_key: return "wamp.error.encryption.no_key";
    case errc::plaintext_refused: return "wamp.error.encryption.plaintext_refused";
    case errc::encryption_required: return "wamp.error.encryption.key_required";
    case errc::unknown_encryption_algorithm: return "wamp.error.encryption.unknown_algorithm";
    case errc::unknown_encryption_serializer: return "wamp.error.encryption.unknown_serializer";
    case errc::binding_mismatch: return "wamp.error.encryption.binding_mismatch";
    case errc::replayed_payload: return "wamp.error.encryption.replay";
    case errc::downgrade_refused: return "wamp.error.encryption.downgrade_refused";
    case errc::key_retired: return "wamp.error.encryption.key_retired";
    case errc::unknown_sender: return "wamp.error.encryption.unknown_sender";
    case errc::sender_not_allowed: return "wamp.error.encryption.sender_not_allowed";
    case errc::signature_invalid: return "wamp.error.encryption.signature_invalid";
    default: return "wamp.error.encryption.invalid_payload";
  }
}

std::string exception_message(std::exception_ptr e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

wamp_error::wamp_error(std::string uri, nlohmann::json args, nlohmann::json kwargs, errc code,
                       const std::string& message)
    : error(make_error_code(code), message.empty() ? uri : uri + ": " + message, verbatim{}),
      uri_(std::move(uri)),
      args_(std::move(args)),
      kwargs_(std::move(kwargs)) {}

}  // namespace wampbox
