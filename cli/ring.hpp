// wampbox CLI — `wampbox ring`: key-ring files of secure mode (docs/secure-mode.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace wampbox::cli {

/// What `wampbox ring ...` was asked for.
struct ring_options {
  std::string action;                ///< the subcommand: init, identity, add-key, rotate, ...
  std::string file;                  ///< the ring file
  std::string name;                  ///< init: this peer's name; trust: the sender's name
  std::string prefix;                ///< the URI prefix
  std::string public_key;            ///< trust: the sender's Ed25519 public key (Base64)
  std::vector<std::string> roles;    ///< trust: publish, call, answer
  std::string key_id;                ///< retire: the key id (16 hex digits)
  std::string derive;                ///< add-key/rotate: label of a passphrase-derived key
  std::string import_from;           ///< add-key/rotate: copy the prefix's keys from this ring
  double in_seconds = 0;             ///< rotate: valid in; retire: retired in
  bool passphrase = false;           ///< init: derive keys from $WAMPBOX_PASSPHRASE
  unsigned long long opslimit = 2;   ///< init --passphrase: Argon2id opslimit
  std::size_t memlimit = 64u << 20;  ///< init --passphrase: Argon2id memlimit in bytes
  bool secrets = false;              ///< show: print secrets too
};

/// Adds `ring` and its subcommands to `app`; they fill `opts`.
CLI::App* add_ring_command(CLI::App& app, ring_options& opts);

/// Runs `wampbox ring ...`; prints to `out` (secrets only with `show --secrets`); returns the
/// exit code.
int run_ring(const ring_options& opts, std::ostream& out);

}  // namespace wampbox::cli
