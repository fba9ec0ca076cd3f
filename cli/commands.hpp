// wampbox CLI — the commands behind the argument parser (main.cpp).
//
// Options come in two groups: `session_options`, which every session command takes (where
// to connect and how to join: URL, realm, key ring, TLS, authentication), and
// `command_options`, what the one command given does.
#pragma once

#include "auth_options.hpp"
#include "reconnect_options.hpp"
#include "tls_options.hpp"
#include "uri_check.hpp"

#include <wampbox/session/types.hpp>

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

/// Where to connect and how to join: the options of every session command.
struct session_options {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string realm = "realm1";
  std::string serializer = "json";
  std::string keyring;  ///< key-ring file for end-to-end encryption (empty: none)
  double timeout_s = 10;
  uri_rules uris = uri_rules::loose;  ///< how topics and procedures are checked
  connection_options connection;      ///< TLS and keep-alive (tls_options.hpp)
  auth_cli_options auth;              ///< authentication (auth_options.hpp)
};

/// The session commands.
enum class command { publish, subscribe, call, register_ };

/// What the one session command given does.
struct command_options {
  std::string uri;                             ///< topic or procedure
  std::vector<std::string> args;               ///< positional arguments, JSON or plain strings
  std::vector<std::string> kwargs;             ///< KEY=VALUE
  std::size_t count = 0;                       ///< subscribe/register: stop after N (0: never)
  match_policy match = match_policy::exact;    ///< subscribe/register
  publish_options publish;                     ///< publish (eligibility lists: see below)
  std::vector<wire::id> eligible;              ///< publish --eligible (empty: not given)
  std::vector<std::string> eligible_authid;    ///< publish --eligible-authid
  std::vector<std::string> eligible_authrole;  ///< publish --eligible-authrole
  bool get_retained = false;                   ///< subscribe
  bool progress = false;                       ///< call: print progressive results
  bool disclose_me = false;                    ///< call
  bool echo = false;                           ///< register: answer with the call's arguments
  std::string exec;                            ///< register: answer by running this command
  invocation_policy invoke = invocation_policy::single;  ///< register
  reconnect_options
      reconnect;  ///< subscribe/register: a reconnecting client (reconnect_options.hpp)
};

/// Runs a session command to completion; returns the process exit code.
int run(command cmd, const session_options& session, const command_options& opts);

/// What `keygen` was asked for.
struct keygen_options {
  std::optional<std::string> shared_prefix;  ///< print a key-ring file with one shared key
  std::string out_file;                      ///< write there (mode 0600) instead of stdout
};

/// Prints (or writes) a new key pair, or a key-ring document using a new key; returns the
/// exit code.
int run_keygen(const keygen_options& opts, std::ostream& out);

}  // namespace wampbox::cli
