// wampbox — command-line WAMP client: publish, subscribe, call, register, keygen.
//
// One function per group of options: the session options every session command takes
// (global: accepted before or after the subcommand), then one per subcommand.
#include "commands.hpp"
#include "ring.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>

namespace {

using namespace wampbox;
using namespace wampbox::cli;

const std::map<std::string, match_policy> match_names = {{"exact", match_policy::exact},
                                                         {"prefix", match_policy::prefix},
                                                         {"wildcard", match_policy::wildcard}};

const std::map<std::string, invocation_policy> invoke_names = {
    {"single", invocation_policy::single},
    {"roundrobin", invocation_policy::roundrobin},
    {"random", invocation_policy::random},
    {"first", invocation_policy::first},
    {"last", invocation_policy::last}};

/// The options of every session command; TLS, keep-alive and authentication come from
/// tls_options.cpp and auth_options.cpp.
void add_session_options(CLI::App& app, session_options& c) {
  app.add_option("--url", c.url, "router URL")->envname("WAMPBOX_URL");
  app.add_option("--realm", c.realm, "realm to join")->capture_default_str();
  app.add_option("--serializer", c.serializer, "json, msgpack or cbor")
      ->check(CLI::IsMember({"json", "msgpack", "cbor"}))
      ->capture_default_str();
  app.add_option("--keyring", c.keyring, "key-ring file (JSON) for end-to-end encryption")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout", c.timeout_s,
                 "seconds to wait for connect, join and each answer of the router (0: no "
                 "limit); past it the command exits with 5")
      ->capture_default_str();
  app.add_flag_function(
      "--strict-uris", [&c](std::int64_t) { c.uris = uri_rules::strict; },
      "check topics and procedures with the spec's strict rules (components of a-z, 0-9 and _ "
      "only) instead of the loose ones (no white space, '.' or '#' in a component)");
  add_connection_options(app, c.connection);
  add_auth_options(app, c.auth);
}

/// A repeatable option that takes one value each time, so that ARGs after it stay ARGs.
template <typename T>
void add_repeatable(CLI::App& sub, const std::string& name, std::vector<T>& into,
                    const std::string& what) {
  sub.add_option(name, into, what + " (repeatable)")->allow_extra_args(false);
}

/// The --kw of publish and call (their ARGs are the main app's extras, see main()).
void add_payload_options(CLI::App& sub, command_options& o) {
  sub.footer("ARG...: positional arguments (JSON, else string)");
  add_repeatable(sub, "--kw", o.kwargs, "keyword argument KEY=VALUE");
}

void add_match_option(CLI::App& sub, command_options& o) {
  sub.add_option("--match", o.match, "exact, prefix or wildcard")
      ->transform(CLI::CheckedTransformer(match_names))
      ->option_text("exact|prefix|wildcard (default exact)");
}

CLI::App* add_publish(CLI::App& app, command_options& o) {
  auto* sub = app.add_subcommand("publish", "publish an event");
  sub->add_option("topic", o.uri, "topic URI")->required();
  add_payload_options(*sub, o);
  auto& p = o.publish;
  sub->add_flag("--acknowledge", p.acknowledge,
                "wait for the router's PUBLISHED (else success means: written, and the session "
                "closed cleanly with GOODBYE)");
  sub->add_flag("--retain", p.retain, "ask the broker to retain the event for --get-retained");
  sub->add_flag("--disclose-me", p.disclose_me,
                "ask the router to disclose this publisher to subscribers");
  add_repeatable(*sub, "--exclude", p.exclude, "session ID not to deliver to");
  add_repeatable(*sub, "--exclude-authid", p.exclude_authid, "authid not to deliver to");
  add_repeatable(*sub, "--exclude-authrole", p.exclude_authrole, "authrole not to deliver to");
  add_repeatable(*sub, "--eligible", o.eligible, "deliver only to this session ID");
  add_repeatable(*sub, "--eligible-authid", o.eligible_authid, "deliver only to this authid");
  add_repeatable(*sub, "--eligible-authrole", o.eligible_authrole, "deliver only to this authrole");
  return sub;
}

CLI::App* add_subscribe(CLI::App& app, command_options& o) {
  auto* sub = app.add_subcommand(
      "subscribe", "print each event as one JSON line {\"args\",\"kwargs\",\"details\"}");
  sub->add_option("topic", o.uri, "topic URI or pattern")->required();
  sub->add_option("--count", o.count, "exit after N events (0: run until Ctrl-C)");
  add_match_option(*sub, o);
  sub->add_flag("--get-retained", o.get_retained,
                "first receive the event the broker retained on the topic, if any");
  add_reconnect_options(*sub, o.reconnect);
  return sub;
}

CLI::App* add_call(CLI::App& app, command_options& o) {
  auto* sub = app.add_subcommand(
      "call", "call a procedure, print the result as {\"args\",\"kwargs\",\"details\"}");
  sub->add_option("procedure", o.uri, "procedure URI")->required();
  add_payload_options(*sub, o);
  sub->add_flag("--progress", o.progress,
                "ask for progressive results and print each as a line as it arrives");
  sub->add_flag("--disclose-me", o.disclose_me,
                "ask the router to disclose this caller to the callee");
  return sub;
}

CLI::App* add_register(CLI::App& app, command_options& o) {
  auto* sub = app.add_subcommand("register", "register a procedure and answer calls");
  sub->add_option("procedure", o.uri, "procedure URI or pattern")->required();
  auto* answer = sub->add_option_group("answer", "how calls are answered (exactly one)");
  answer->add_flag("--echo", o.echo, "answer every call with its own args and kwargs");
  answer
      ->add_option(
          "--exec", o.exec,
          "answer every call by running CMD with /bin/sh -c: the call as JSON "
          "{\"procedure\",\"args\",\"kwargs\"} on its standard input, its standard output (JSON: "
          "{\"args\",\"kwargs\"}, an array of args, or one value; nothing for no result) is the "
          "answer; a non-zero exit is answered with the error wampbox.error.exec_failed carrying "
          "its standard error")
      ->type_name("CMD");
  answer->require_option(1);
  sub->add_option("--count", o.count, "exit after N calls (0: run until Ctrl-C)");
  add_match_option(*sub, o);
  sub->add_option("--invoke", o.invoke,
                  "invocation policy of a shared registration: single, roundrobin, random, "
                  "first or last (all callees of a procedure must use the same)")
      ->transform(CLI::CheckedTransformer(invoke_names))
      ->option_text("POLICY (default single)");
  add_reconnect_options(*sub, o.reconnect);
  return sub;
}

CLI::App* add_keygen(CLI::App& app, keygen_options& k) {
  auto* sub = app.add_subcommand(
      "keygen",
      "print a new X25519 key pair {\"private_key\",\"public_key\"} (Base64), or with "
      "--shared a key-ring file using one new key for both roles");
  sub->add_option("--shared", k.shared_prefix,
                  "URI prefix (\"\" for the default key) of the key-ring entry to print");
  sub->add_option("--out", k.out_file, "write to this new file with mode 0600 instead of stdout");
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  session_options session;
  command_options opts;
  keygen_options keygen_opts;

  CLI::App app{"wampbox — WAMP client with end-to-end payload encryption"};
  app.footer(
      "URLs: ws://host:port/path (WebSocket), wss://host:port/path (WebSocket over TLS),\n"
      "      rs://host:port (RawSocket over TCP), rss://host:port (RawSocket over TLS),\n"
      "      unix:///path/to/socket (RawSocket over a Unix socket). Default: $WAMPBOX_URL or\n"
      "      " +
      session.url +
      ".\n"
      "TLS always verifies the router's certificate and host name (--ca-file for a private\n"
      "CA or a self-signed router).\n"
      "Options of the session (--url, --realm, ...) may come before or after the command.\n"
      "ARGs are parsed as JSON when they are valid JSON, else taken as strings.\n"
      "Binary values print as \"\\u0000\" + base64 (Autobahn's JSON convention).\n"
      "Topics and procedures are checked before anything is sent (--strict-uris).\n"
      "With --keyring, payloads on keyed URIs are end-to-end encrypted (cryptobox, or secure\n"
      "mode for a ring made by `wampbox ring`) and decrypted on receipt; the router only ever\n"
      "sees ciphertext. The key-ring file must not be readable by group or others (chmod 600);\n"
      "a passphrase ring reads its passphrase from $WAMPBOX_PASSPHRASE.\n"
      "Exit codes: 0 success, 1 usage, 2 WAMP error from the call, 3 cannot connect,\n"
      "4 join refused (ABORT), 5 other failure (timeout: no answer within --timeout,\n"
      "encryption, a lost connection or a session the router ended, also while subscribe or\n"
      "register wait; with --reconnect they exit with 3 once they give up). subscribe and\n"
      "register exit with 0 after --count, or on SIGINT or SIGTERM.");
  // Subcommands made afterwards inherit it: what they do not know goes to the main app, so the
  // global options work after the command too.
  app.fallthrough();
  // The ARGs of publish and call arrive here, raw (an option would split a JSON array "[1,2]"
  // into two values); any other command refuses them below.
  app.allow_extras();
  add_session_options(app, session);
  app.require_subcommand(1);
  auto* publish = add_publish(app, opts);
  auto* subscribe = add_subscribe(app, opts);
  auto* call = add_call(app, opts);
  add_register(app, opts);  // the command when no other was given
  auto* keygen = add_keygen(app, keygen_opts);

  ring_options ring_opts;
  auto* ring = add_ring_command(app, ring_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }

  const bool takes_args = publish->parsed() || call->parsed();
  if (!takes_args && !app.remaining().empty()) {
    std::cerr << "wampbox: unexpected argument '" << app.remaining().front() << "'\n";
    return exit_usage;
  }
  if (keygen->parsed()) return run_keygen(keygen_opts, std::cout);
  if (ring->parsed()) return run_ring(ring_opts, std::cout);
  opts.args = app.remaining();
  const command cmd = publish->parsed()     ? command::publish
                      : subscribe->parsed() ? command::subscribe
                      : call->parsed()      ? command::call
                                            : command::register_;
  const bool pattern = cmd == command::subscribe || cmd == command::register_;
  if (auto problem =
          uri_problem(opts.uri, pattern ? opts.match : match_policy::exact, session.uris)) {
    const bool topic = cmd == command::publish || cmd == command::subscribe;
    std::cerr << "wampbox: invalid " << (topic ? "topic" : "procedure") << " URI '" << opts.uri
              << "': " << *problem << '\n';
    return exit_usage;
  }
  // An --exec command that exits without reading its input must not kill the CLI.
  if (!opts.exec.empty()) std::signal(SIGPIPE, SIG_IGN);
  return run(cmd, session, opts);
}
