// wampbox CLI — TLS and keep-alive options (--ca-file, --ca-dir, --cert, --key, --keepalive,
// --keepalive-timeout, --rawsocket-ping).
#pragma once

#include <wampbox/transport/transport.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace wampbox::cli {

/// What the TLS and keep-alive options said.
struct connection_options {
  std::string ca_file;          ///< --ca-file
  std::string ca_dir;           ///< --ca-dir
  std::string cert_file;        ///< --cert
  std::string key_file;         ///< --key
  double keepalive_s;           ///< --keepalive (0: off)
  double keepalive_timeout_s;   ///< --keepalive-timeout
  bool rawsocket_ping = false;  ///< --rawsocket-ping
  /// The library's defaults (transport_options).
  connection_options();
};

/// Adds the TLS and keep-alive options to `app`, storing into `opts`.
void add_connection_options(CLI::App& app, connection_options& opts);

/// Copies the options into `to`.
void apply(const connection_options& opts, transport::transport_options& to);

}  // namespace wampbox::cli
