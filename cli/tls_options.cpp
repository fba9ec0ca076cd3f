#include "tls_options.hpp"

#include <chrono>

namespace wampbox::cli {
namespace {

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; }

std::chrono::milliseconds milliseconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

}  // namespace

connection_options::connection_options() {
  const transport::transport_options defaults;
  keepalive_s = seconds(defaults.keepalive_interval);
  keepalive_timeout_s = seconds(defaults.keepalive_timeout);
  rawsocket_ping = defaults.rawsocket_keepalive;
}

void add_connection_options(CLI::App& app, connection_options& opts) {
  const char* group = "TLS (wss://, rss://) and keep-alive";
  app.add_option("--ca-file", opts.ca_file,
                 "PEM file of the CAs to trust for the router's certificate (default: the "
                 "system's trust store); for a self-signed router, its certificate")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_option("--ca-dir", opts.ca_dir,
                 "directory of CA certificates to trust, hashed as by `openssl rehash`")
      ->check(CLI::ExistingDirectory)
      ->group(group);
  auto* cert = app.add_option("--cert", opts.cert_file,
                              "client certificate (PEM) for routers that require one (mutual TLS)")
                   ->check(CLI::ExistingFile)
                   ->group(group);
  auto* key = app.add_option("--key", opts.key_file, "unencrypted PEM private key of --cert")
                  ->check(CLI::ExistingFile)
                  ->group(group);
  cert->needs(key);
  key->needs(cert);
  app.add_option("--keepalive", opts.keepalive_s,
                 "seconds without traffic from the router before a ping (WebSocket; RawSocket "
                 "with --rawsocket-ping); 0: no keep-alive")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  app.add_option("--keepalive-timeout", opts.keepalive_timeout_s,
                 "seconds the router has to answer a ping; past it the connection counts as "
                 "lost (exit 5)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  app.add_flag("--rawsocket-ping", opts.rawsocket_ping,
               "keep-alive on RawSocket too (rs://, rss://, unix://), for routers that answer "
               "RawSocket PING; Crossbar.io does not and drops the connection")
      ->group(group);
}

void apply(const connection_options& opts, transport::transport_options& to) {
  to.tls_ca_file = opts.ca_file;
  to.tls_ca_dir = opts.ca_dir;
  to.tls_certificate_file = opts.cert_file;
  to.tls_key_file = opts.key_file;
  to.keepalive_interval = milliseconds(opts.keepalive_s);
  to.keepalive_timeout = milliseconds(opts.keepalive_timeout_s);
  to.rawsocket_keepalive = opts.rawsocket_ping;
}

}  // namespace wampbox::cli
