// wampbox CLI — the commands behind the argument parser.
#pragma once

#include "auth_options.hpp"
#include "reconnect_options.hpp"
#include "tls_options.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace wampbox::cli {

/// Exit codes, as documented by `wampbox --help`.
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_wamp_error = 2,
  exit_connect_failed = 3,
  exit_join_refused = 4,
  exit_failure = 5,
};

/// Everything the command line said.
struct options {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string realm = "realm1";
  std::string serializer = "json";
  std::string keyring;
  double timeout_s = 10;
  std::string uri;                  ///< topic or procedure
  std::vector<std::string> args;    ///< positional arguments, JSON or plain strings
  std::vector<std::string> kwargs;  ///< KEY=VALUE
  bool acknowledge = false;
  bool echo = false;
  std::size_t count = 0;
  std::string match = "exact";
  connection_options connection;  ///< TLS and keep-alive
  auth_cli_options auth;
  reconnect_options reconnect;  ///< subscribe and register only
};

/// The session commands.
enum class command { publish, subscribe, call, register_echo };

/// Runs a session command to completion; returns the process exit code.
int run(command cmd, const options& opts);

/// What `keygen` was asked for.
struct keygen_options {
  std::optional<std::string> shared_prefix;  ///< print a key-ring file with one shared key
  std::string out_file;                      ///< write there (mode 0600) instead of stdout
};

/// Prints (or writes) a new key pair, or a key-ring document using a new key; returns the
/// exit code.
int run_keygen(const keygen_options& opts, std::ostream& out);

}  // namespace wampbox::cli
