// wampbox — command-line WAMP client: publish, subscribe, call, register, keygen.
#include "commands.hpp"
#include "ring.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  using namespace wampbox::cli;
  options opts;
  if (const char* url = std::getenv("WAMPBOX_URL")) opts.url = url;

  CLI::App app{"wampbox — WAMP client with end-to-end payload encryption"};
  app.footer(
      "URLs: ws://host:port/path (WebSocket), wss://host:port/path (WebSocket over TLS),\n"
      "      rs://host:port (RawSocket over TCP), rss://host:port (RawSocket over TLS),\n"
      "      unix:///path/to/socket (RawSocket over a Unix socket). Default: $WAMPBOX_URL or\n"
      "      " +
      opts.url +
      ".\n"
      "TLS always verifies the router's certificate and host name (--ca-file for a private\n"
      "CA or a self-signed router).\n"
      "ARGs are parsed as JSON when they are valid JSON, else taken as strings.\n"
      "Binary values print as \"\\u0000\" + base64 (Autobahn's JSON convention).\n"
      "With --keyring, payloads on keyed URIs are end-to-end encrypted (cryptobox, or secure\n"
      "mode for a ring made by `wampbox ring`) and decrypted on receipt; the router only ever\n"
      "sees ciphertext. The key-ring file must not be readable by group or others (chmod 600);\n"
      "a passphrase ring reads its passphrase from $WAMPBOX_PASSPHRASE.\n"
      "Exit codes: 0 success, 1 usage, 2 WAMP error from the call, 3 cannot connect,\n"
      "4 join refused (ABORT), 5 other failure (timeout: no answer within --timeout,\n"
      "encryption, lost connection).");
  app.add_option("--url", opts.url, "router URL");
  app.add_option("--realm", opts.realm, "realm to join")->capture_default_str();
  app.add_option("--serializer", opts.serializer, "json, msgpack or cbor")
      ->check(CLI::IsMember({"json", "msgpack", "cbor"}))
      ->capture_default_str();
  app.add_option("--keyring", opts.keyring, "key-ring file (JSON) for end-to-end encryption")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout", opts.timeout_s,
                 "seconds to wait for connect, join and each answer of the router (0: no "
                 "limit); past it the command exits with 5")
      ->capture_default_str();
  add_connection_options(app, opts.connection);
  add_auth_options(app, opts.auth);
  app.require_subcommand(1);

  auto* publish = app.add_subcommand("publish", "publish an event");
  publish->add_option("topic", opts.uri, "topic URI")->required();
  // ARGs are taken raw (allow_extras): CLI11 would split a JSON array "[1,2]" into two values.
  publish->allow_extras();
  publish->footer("ARG...: positional arguments (JSON, else string)");
  publish->add_option("--kw", opts.kwargs, "keyword argument KEY=VALUE (repeatable)");
  publish->add_flag("--acknowledge", opts.acknowledge, "wait for the router's PUBLISHED");

  auto* subscribe = app.add_subcommand(
      "subscribe", "print each event as one JSON line {\"args\",\"kwargs\",\"details\"}");
  subscribe->add_option("topic", opts.uri, "topic URI or pattern")->required();
  subscribe->add_option("--count", opts.count, "exit after N events (0: run until Ctrl-C)");
  subscribe->add_option("--match", opts.match, "exact, prefix or wildcard")
      ->check(CLI::IsMember({"exact", "prefix", "wildcard"}));
  add_reconnect_options(*subscribe, opts.reconnect);

  auto* call = app.add_subcommand(
      "call", "call a procedure, print the result as {\"args\",\"kwargs\",\"details\"}");
  call->add_option("procedure", opts.uri, "procedure URI")->required();
  call->allow_extras();
  call->footer("ARG...: positional arguments (JSON, else string)");
  call->add_option("--kw", opts.kwargs, "keyword argument KEY=VALUE (repeatable)");

  auto* reg = app.add_subcommand("register", "register a procedure and answer calls");
  reg->add_option("procedure", opts.uri, "procedure URI")->required();
  reg->add_flag("--echo", opts.echo, "answer every call with its own args and kwargs")->required();
  reg->add_option("--count", opts.count, "exit after N calls (0: run until Ctrl-C)");
  add_reconnect_options(*reg, opts.reconnect);

  keygen_options keygen_opts;
  auto* keygen = app.add_subcommand(
      "keygen",
      "print a new X25519 key pair {\"private_key\",\"public_key\"} (Base64), or with "
      "--shared a key-ring file using one new key for both roles");
  keygen->add_option("--shared", keygen_opts.shared_prefix,
                     "URI prefix (\"\" for the default key) of the key-ring entry to print");
  keygen->add_option("--out", keygen_opts.out_file,
                     "write to this new file with mode 0600 instead of stdout");

  ring_options ring_opts;
  auto* ring = add_ring_command(app, ring_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }

  if (keygen->parsed()) return run_keygen(keygen_opts, std::cout);
  if (ring->parsed()) return run_ring(ring_opts, std::cout);
  for (auto* sub : {publish, call})
    if (sub->parsed()) opts.args = sub->remaining();
  command cmd = publish->parsed()     ? command::publish
                : subscribe->parsed() ? command::subscribe
                : call->parsed()      ? command::call
                                      : command::register_echo;
  return run(cmd, opts);
}
