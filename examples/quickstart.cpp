// The README's first example: encrypted pub/sub and RPC in one program.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>

#include <boost/asio.hpp>
#include <iostream>

namespace asio = boost::asio;
using namespace wampbox;

asio::awaitable<void> run(std::string url) {
  session s(co_await asio::this_coro::executor);
  // Payloads on URIs the key ring covers are end-to-end encrypted (Autobahn-compatible
  // cryptobox); make one with: wampbox keygen --shared com.example. --out ring.json
  s.set_payload_codec(std::make_shared<codec::cryptobox_codec>(codec::load_key_ring("ring.json")));
  co_await s.async_connect({url, wire::serializer_kind::msgpack}, asio::use_awaitable);
  co_await s.async_join({}, asio::use_awaitable);  // realm1, anonymous

  co_await s.async_subscribe("com.example.temperature", [](const event& e) {
    std::cout << "event " << e.args << (e.encrypted ? " (was end-to-end encrypted)\n" : "\n");
  }, {}, asio::use_awaitable);
  co_await s.async_register("com.example.add", [](const invocation& call) {
    call_result sum;
    sum.args = value::array({call.args[0].get<int>() + call.args[1].get<int>()});
    return sum;
  }, {}, asio::use_awaitable);

  publish_options to_me_too;
  to_me_too.exclude_me = false;
  value reading = value::array({21.5});
  co_await s.async_publish("com.example.temperature", reading, nullptr, to_me_too,
                           asio::use_awaitable);
  value terms = value::array({2, 3});
  call_result result = co_await s.async_call("com.example.add", terms, nullptr, {},
                                             asio::use_awaitable);
  std::cout << "2 + 3 = " << result.args[0] << (result.encrypted ? " (encrypted)\n" : "\n");
  co_await s.async_leave("wamp.close.normal", asio::use_awaitable);
}

int main(int argc, char** argv) {
  asio::io_context io;
  asio::co_spawn(io, run(argc > 1 ? argv[1] : "rs://127.0.0.1:8081"), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
}
