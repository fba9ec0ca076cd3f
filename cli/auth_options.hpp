// wampbox CLI — authentication options (--authmethod, --authid, --authrole and credentials).
#pragma once

#include <wampbox/session/types.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace wampbox::cli {

/// What the command line says about authentication.
struct auth_cli_options {
  std::string method;       ///< --authmethod (empty: anonymous without announcing it)
  std::string authid;       ///< --authid
  std::string authrole;     ///< --authrole
  std::string secret_file;  ///< --secret-file: ticket, WAMP-CRA secret or SCRAM password
  std::string secret_env;   ///< --secret-env: the same from an environment variable
  std::string private_key;  ///< --private-key: WAMP-Cryptosign key file
};

/// Adds the authentication options to `app`, storing into `o`.
void add_auth_options(CLI::App& app, auth_cli_options& o);

/// Sets `jo`'s authid, authrole and authenticator as `o` says; throws std::invalid_argument for
/// options that do not fit together, wampbox::error for unreadable credentials.
void apply_auth_options(const auth_cli_options& o, join_options& jo);

}  // namespace wampbox::cli
