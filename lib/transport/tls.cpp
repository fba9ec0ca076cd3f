#include "tls.hpp"

#include <wampbox/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <vector>

namespace wampbox::transport::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using boost::system::error_code;

namespace {

[[noreturn]] void setup_failed(const std::string& what) {
  ERR_clear_error();  // what OpenSSL queued is in `what`; it must not confuse later calls
  throw error(errc::tls_setup_failed, "TLS setup failed: " + what);
}

void check(error_code ec, const std::string& what) {
  if (ec) setup_failed(what + " (" + ec.message() + ")");
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Text from a certificate, made safe to print: the router chose it, so control characters
// (terminal escapes) become '?'.
std::string printable(const unsigned char* data, int length) {
  std::string out(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
  std::replace_if(
      out.begin(), out.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }, '?');
  return out;
}

// A distinguished name in the one-line RFC 2253 form ("CN=router,O=example").
std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "?";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out =
      printable(reinterpret_cast<const unsigned char*>(data), static_cast<int>(length));
  BIO_free(bio);
  return out;
}

// An IP address in a subjectAltName (4 or 16 octets) as text.
std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* bytes = ASN1_STRING_get0_data(ip);
  if (ASN1_STRING_length(ip) == 4) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(bytes, 4, b.begin());
    return asio::ip::address_v4(b).to_string();
  }
  if (ASN1_STRING_length(ip) == 16) {
    asio::ip::address_v6::bytes_type b;
    std::copy_n(bytes, 16, b.begin());
    return asio::ip::address_v6(b).to_string();
  }
  return "?";
}

// The names a certificate is valid for: the DNS names and IP addresses of its
// subjectAltName, else (legacy certificates) its subject's common name.
std::string names_of(X509* cert) {
  std::vector<std::string> names;
  auto* alt =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(alt, i);
    if (n->type == GEN_DNS)
      names.push_back(
          printable(ASN1_STRING_get0_data(n->d.dNSName), ASN1_STRING_length(n->d.dNSName)));
    else if (n->type == GEN_IPADD)
      names.push_back(ip_text(n->d.iPAddress));
  }
  GENERAL_NAMES_free(alt);
  if (names.empty()) {
    const X509_NAME* subject = X509_get_subject_name(cert);
    const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (cn >= 0) {
      const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn));
      names.push_back(printable(ASN1_STRING_get0_data(data), ASN1_STRING_length(data)));
    }
  }
  if (names.empty()) return "no host name";
  std::string out = names.front();
  for (std::size_t i = 1; i < names.size(); ++i) out += ", " + names[i];
  return out;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const transport_options& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Why: a renegotiation would run the verify callback again after connect returned, and a
  // WAMP client has no use for one.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION);
  ctx->set_verify_mode(ssl::verify_peer);
  // An encrypted key must fail, never prompt on the terminal (OpenSSL's default).
  ctx->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  error_code ec;
  if (options.tls_ca_file.empty() && options.tls_ca_dir.empty()) {
    ctx->set_default_verify_paths(ec);
    check(ec, "cannot use the system's trust store");
  }
  if (!options.tls_ca_file.empty()) {
    ctx->load_verify_file(options.tls_ca_file, ec);
    check(ec, "cannot load CA file '" + options.tls_ca_file + "'");
  }
  if (!options.tls_ca_dir.empty()) {
    // OpenSSL looks into the directory only during handshakes; a typo must fail here.
    std::error_code fs_ec;
    if (!std::filesystem::is_directory(options.tls_ca_dir, fs_ec))
      setup_failed("CA directory '" + options.tls_ca_dir + "' is not a directory");
    ctx->add_verify_path(options.tls_ca_dir, ec);
    check(ec, "cannot use CA directory '" + options.tls_ca_dir + "'");
  }
  if (options.tls_certificate_file.empty() != options.tls_key_file.empty())
    setup_failed("a client certificate needs both a certificate file and its key file");
  if (!options.tls_certificate_file.empty()) {
    ctx->use_certificate_chain_file(options.tls_certificate_file, ec);
    check(ec, "cannot load client certificate '" + options.tls_certificate_file + "'");
    ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    check(ec, "cannot load private key '" + options.tls_key_file + "'");
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      setup_failed("private key '" + options.tls_key_file +
                   "' does not belong to client certificate '" + options.tls_certificate_file +
                   "'");
  }
  return ctx;
}

void tls_verification::prepare_handle(SSL* ssl, const std::string& host) {
  state_->host = host;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  bool ok;
  if (is_ip_address(host)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
  }
  if (!ok) setup_failed("OpenSSL does not accept the host name '" + host + "'");
}

bool tls_verification::record(bool preverified, ssl::verify_context& ctx, state& s) {
  if (preverified || !s.failure.empty()) return preverified;
  X509_STORE_CTX* store = ctx.native_handle();
  const int code = X509_STORE_CTX_get_error(store);
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  std::string what = X509_verify_cert_error_string(code);
  if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH)
    what += " (certificate is for " + (cert ? names_of(cert) : std::string("unknown names")) +
            ", not " + s.host + ")";
  else if (cert)
    what += " (certificate \"" + name_text(X509_get_subject_name(cert)) + "\" issued by \"" +
            name_text(X509_get_issuer_name(cert)) + "\")";
  s.failure = what;
  return preverified;
}

error_code tls_verification::classify(error_code ec, std::string& reason) const {
  if (!state_->failure.empty()) {
    reason = "TLS certificate verification failed: " + state_->failure;
    return errc::tls_verification_failed;
  }
  if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) {
    reason = "transport handshake failed (TLS: " + ec.message() + ")";
    return errc::handshake_failed;
  }
  return ec;
}

std::string tls_unique(SSL* ssl) {
  // A Finished message is at most as long as the handshake hash (48 bytes for SHA-384).
  std::array<unsigned char, EVP_MAX_MD_SIZE> finished{};
  const std::size_t length = SSL_session_reused(ssl)
                                 ? SSL_get_peer_finished(ssl, finished.data(), finished.size())
                                 : SSL_get_finished(ssl, finished.data(), finished.size());
  return std::string(reinterpret_cast<const char*>(finished.data()),
                     std::min(length, finished.size()));
}

}  // namespace wampbox::transport::detail
