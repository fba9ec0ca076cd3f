#include "auth_options.hpp"

#include <wampbox/auth/methods.hpp>

#include <stdexcept>

namespace wampbox::cli {
namespace {

/// The secret of --secret-file or --secret-env (exactly one of them).
auth::secret secret_of(const auth_cli_options& o) {
  if (o.secret_file.empty() == o.secret_env.empty())
    throw std::invalid_argument("--authmethod " + o.method +
                                " needs exactly one of --secret-file FILE and --secret-env VAR");
  return o.secret_file.empty() ? auth::secret::from_env(o.secret_env)
                               : auth::secret::from_file(o.secret_file);
}

}  // namespace

void add_auth_options(CLI::App& app, auth_cli_options& o) {
  const char* group = "Authentication";
  app.add_option("--authmethod", o.method,
                 "anonymous, ticket, wampcra, cryptosign or scram (default: anonymous without "
                 "announcing a method)")
      ->check(CLI::IsMember({"anonymous", "ticket", "wampcra", "cryptosign", "scram"}))
      ->group(group);
  app.add_option("--authid", o.authid, "authentication id (the principal)")->group(group);
  app.add_option("--authrole", o.authrole, "role to ask the router for")->group(group);
  app.add_option("--secret-file", o.secret_file,
                 "file (mode 0600) holding the ticket, WAMP-CRA secret or SCRAM password; one "
                 "trailing line break is ignored")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_option("--secret-env", o.secret_env,
                 "environment variable holding the ticket, WAMP-CRA secret or SCRAM password")
      ->group(group);
  app.add_option("--private-key", o.private_key,
                 "WAMP-Cryptosign private key file (mode 0600): OpenSSH ed25519, Crossbar.io key "
                 "file, or the hex seed")
      ->check(CLI::ExistingFile)
      ->group(group);
}

void apply_auth_options(const auth_cli_options& o, join_options& jo) {
  const bool has_secret = !o.secret_file.empty() || !o.secret_env.empty();
  if (o.method.empty() || o.method == "anonymous") {
    if (has_secret || !o.private_key.empty())
      throw std::invalid_argument("credentials given but no --authmethod that uses them");
    jo.authid = o.authid;
    if (o.method == "anonymous") jo.authenticator = auth::anonymous(o.authid);
  } else if (o.method == "cryptosign") {
    if (has_secret) throw std::invalid_argument("cryptosign takes --private-key, not a secret");
    if (o.private_key.empty()) throw std::invalid_argument("cryptosign needs --private-key FILE");
    jo.authenticator = auth::cryptosign(o.authid, auth::cryptosign_key::from_file(o.private_key));
  } else {
    if (!o.private_key.empty()) throw std::invalid_argument("--private-key is for cryptosign only");
    if (o.method == "ticket") jo.authenticator = auth::ticket(o.authid, secret_of(o));
    if (o.method == "wampcra") jo.authenticator = auth::wampcra(o.authid, secret_of(o));
    if (o.method == "scram") jo.authenticator = auth::scram(o.authid, secret_of(o));
  }
  jo.authrole = o.authrole;
}

}  // namespace wampbox::cli
