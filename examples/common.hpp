// Shared by the examples: command-line arguments and session start-up.
#pragma once

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace example {

/// Usage: PROGRAM URL KEYRING [COUNT]
struct arguments {
  std::string url;
  std::string keyring;
  int count = 5;
};

inline bool parse(int argc, char** argv, arguments& out) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " URL KEYRING [COUNT]\n"
              << "  URL      ws://127.0.0.1:8080/ws, rs://127.0.0.1:8081 or unix:///path\n"
              << "  KEYRING  key-ring file, e.g. from `wampbox keygen --shared com.example. "
                 "--out ring.json`\n";
    return false;
  }
  out.url = argv[1];
  out.keyring = argv[2];
  if (argc > 3) out.count = std::stoi(argv[3]);
  return true;
}

/// Connects, installs end-to-end encryption from the key-ring file, and joins realm1.
inline boost::asio::awaitable<void> start(wampbox::session& s, const arguments& args) {
  s.set_payload_codec(std::make_shared<wampbox::codec::cryptobox_codec>(
      wampbox::codec::load_key_ring(args.keyring)));
  wampbox::transport::transport_options transport;
  transport.url = args.url;
  transport.serializer = wampbox::wire::serializer_kind::msgpack;
  co_await s.async_connect(transport);
  co_await s.async_join(wampbox::join_options{});
}

/// Runs `body(arguments)` as a coroutine until it finishes; returns the process exit code.
template <typename Body>
int main(const char* name, int argc, char** argv, Body body) {
  arguments args;
  if (!parse(argc, argv, args)) return 1;
  boost::asio::io_context io;
  int rc = 0;
  boost::asio::co_spawn(io, body(args), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::cerr << name << ": " << x.what() << '\n';
      rc = 1;
    }
  });
  io.run();
  return rc;
}

}  // namespace example
