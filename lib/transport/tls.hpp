// wampbox — TLS for the wss:// and rss:// transports (internal): the client context, the
// router-certificate check with a reason for users, and the tls-unique channel binding.
#pragma once

#include <wampbox/transport/transport.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// The stream RawSocket over TLS (rss://) runs on.
using tls_socket = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

/// Makes the client TLS context `options` ask for: TLS 1.2 or later, the router's certificate
/// verified against `tls_ca_file` / `tls_ca_dir` (else the system trust store), and the client
/// certificate for mutual TLS. Throws `wampbox::error` (errc::tls_setup_failed) naming the
/// option and file that could not be used.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const transport_options& options);

/// Checks the router's certificate during one TLS handshake and remembers why it failed.
///
/// `prepare` sets SNI (for DNS names; RFC 6066 forbids it for IP addresses) and the expected
/// host name or IP address; OpenSSL's own host check (X509_VERIFY_PARAM) is used rather than
/// asio::ssl::host_name_verification because it reports *which* check failed
/// (X509_V_ERR_HOSTNAME_MISMATCH) instead of a bare "certificate verify failed".
class tls_verification {
 public:
  /// Configures `stream` to verify the router as `host`. Throws `wampbox::error`
  /// (errc::tls_setup_failed) when OpenSSL refuses the host name.
  template <typename NextLayer>
  void prepare(boost::asio::ssl::stream<NextLayer>& stream, const std::string& host) {
    prepare_handle(stream.native_handle(), host);
    // The callback lives in the stream, which outlives this object: it shares the record.
    stream.set_verify_callback(
        [state = state_](bool preverified, boost::asio::ssl::verify_context& ctx) {
          return record(preverified, ctx, *state);
        });
  }

  /// Maps an error of the TLS handshake (or of a later handshake step: with TLS 1.3 the router
  /// refuses a client certificate only after the client finished) to a wampbox error and a
  /// reason for users. Errors that are not TLS errors come back unchanged with an empty reason.
  boost::system::error_code classify(boost::system::error_code ec, std::string& reason) const;

 private:
  struct state {
    std::string host;     // the name the certificate must be for
    std::string failure;  // the first failed check, described for users; empty while none
  };

  void prepare_handle(SSL* ssl, const std::string& host);
  // Describes the first failed check into `s.failure`; returns `preverified`.
  static bool record(bool preverified, boost::asio::ssl::verify_context& ctx, state& s);

  std::shared_ptr<state> state_ = std::make_shared<state>();
};

/// The tls-unique channel binding of a connected TLS stream: the first Finished message of the
/// handshake (the client's in a full handshake, the server's in a resumed one).
std::string tls_unique(SSL* ssl);

}  // namespace wampbox::transport::detail
