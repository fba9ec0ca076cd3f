// wampbox — WAMP authentication: what a join offers and how a CHALLENGE is answered.
//
// A `join_options::authenticator` names one method with its credentials (see
// <wampbox/auth/methods.hpp> for the built-in ones: anonymous, ticket, WAMP-CRA,
// WAMP-Cryptosign, WAMP-SCRAM, and `custom` for any other). The session starts one `exchange`
// per join, so one authenticator serves any number of joins (e.g. every reconnection) and each
// join gets fresh per-attempt state (a SCRAM nonce).
#pragma once

#include <wampbox/export.hpp>
#include <wampbox/wire/value.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace wampbox::auth {

namespace detail {
struct secret_bytes;
struct pending_reply;
}  // namespace detail

/// A secret (ticket, WAMP-CRA secret, SCRAM password): kept in memory that is wiped when the
/// last copy goes, never printed. Copies share the bytes.
class WAMPBOX_API secret {
 public:
  /// Takes `value`; the argument's own buffer is wiped after copying.
  explicit secret(std::string value);
  /// The content of a file only its owner may access (like the key ring: `chmod 600`), without
  /// one trailing line break.
  static secret from_file(const std::filesystem::path& path);
  /// The value of the environment variable `name`; throws when it is unset or empty.
  static secret from_env(const std::string& name);
  /// The bytes, for computing an answer. Never log them.
  std::string_view reveal() const noexcept;

 private:
  std::shared_ptr<const detail::secret_bytes> bytes_;
};

/// A CHALLENGE received while joining.
struct challenge {
  std::string method;  ///< authentication method, e.g. "ticket", "wampcra"
  value extra;         ///< method-specific data from the router
};

/// What an exchange may know of the connection it authenticates.
struct channel {
  /// TLS "tls-unique" channel-binding data (the first Finished message); empty when not TLS.
  std::string tls_unique;
};

/// Answers one CHALLENGE, now or later, from any thread (the answer is handed to the session's
/// executor). Copies refer to the same challenge; only the first answer counts. A challenge
/// whose every reply is dropped unanswered fails the join (errc::authentication_failed).
class WAMPBOX_API reply {
 public:
  /// Sends AUTHENTICATE with `signature` and `extra` (an object).
  void answer(std::string signature, value extra = value::object()) const;
  /// Gives up: the session sends ABORT (wamp.error.cannot_authenticate) and the join fails
  /// with this exception (anything but a wampbox::error becomes errc::authentication_failed).
  void fail(std::exception_ptr why) const;

  /// For the session: a reply whose first answer `deliver` receives (signature and extra, or
  /// the failure), and whose loss unanswered it receives as a failure.
  explicit reply(std::function<void(std::exception_ptr, std::string, value)> deliver);

 private:
  std::shared_ptr<detail::pending_reply> state_;
};

/// One authentication (one join) of a method, with its per-attempt state.
class WAMPBOX_API exchange {
 public:
  virtual ~exchange();
  /// Entries this method puts into HELLO.Details.authextra (an object; e.g. a public key).
  virtual value hello_authextra() const;
  /// Answers a CHALLENGE for this method through `r` (now or later). Throwing fails the join.
  virtual void respond(const challenge& c, reply r) = 0;
  /// Checks WELCOME.Details.authextra after a challenge was answered (WAMP-SCRAM: the router's
  /// proof that it knows the credentials). Throws to refuse the router.
  virtual void verify_welcome(const value& authextra);
};

/// How to authenticate when joining: a method, its authid and credentials. Copyable (copies
/// share the credentials), immutable, reusable for any number of joins.
class WAMPBOX_API authenticator {
 public:
  /// Makes the exchange of one join on `channel`.
  using starter = std::function<std::unique_ptr<exchange>(const channel&)>;
  /// Announces `method` (HELLO.Details.authmethods) and `authid` (empty: none); `start` makes
  /// the exchange of each join.
  authenticator(std::string method, std::string authid, starter start);
  /// The method's name, e.g. "wampcra".
  const std::string& method() const noexcept { return method_; }
  /// The authid announced in HELLO (empty: none).
  const std::string& authid() const noexcept { return authid_; }
  /// Starts the authentication of one join.
  std::unique_ptr<exchange> start(const channel& ch) const;

 private:
  std::string method_;
  std::string authid_;
  starter start_;
};

}  // namespace wampbox::auth
