// The README's first example: encrypted pub/sub and RPC in one program.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>

#include <boost/asio/io_context.hpp>
#include <iostream>

namespace asio = boost::asio;
using namespace wampbox;

asio::awaitable<void> run(std::string url) {
  session s(co_await asio::this_coro::executor);
  // Payloads on URIs the key ring covers are end-to-end encrypted (Autobahn-compatible
  // cryptobox); make one with: wampbox keygen --shared com.example. --out ring.json
  s.set_payload_codec(std::make_shared<codec::cryptobox_codec>(codec::load_key_ring("ring.json")));
  co_await s.async_connect({url, wire::serializer_kind::msgpack});
  co_await s.async_join({});  // realm1, anonymous

  co_await s.async_subscribe("com.example.temperature", [](const event& e) {
    std::cout << "event " << e.args << (e.encrypted ? " (was end-to-end encrypted)\n" : "\n");
  });
  // A typed handler: arguments that do not convert get wamp.error.invalid_argument.
  co_await s.async_register("com.example.add", [](int a, int b) { return a + b; });

  publish_options to_me_too;
  to_me_too.exclude_me = false;
  co_await s.async_publish("com.example.temperature", args(21.5, "°C"), nullptr, to_me_too);
  call_result result = co_await s.async_call("com.example.add", args(2, 3));
  std::cout << "2 + 3 = " << result.args[0] << (result.encrypted ? " (encrypted)\n" : "\n");
  co_await s.async_leave();
}

int main(int argc, char** argv) {
  asio::io_context io;
  asio::co_spawn(io, run(argc > 1 ? argv[1] : "rs://127.0.0.1:8081"), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
}
