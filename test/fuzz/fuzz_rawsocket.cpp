// Fuzz harness: the RawSocket client (handshake reply, then frames) against a peer that sends
// the input bytes over a socket pair and reads everything the client writes. The first 4 bytes
// are the router's handshake reply, the rest its frames. Checks: every message delivered fits
// the announced limit; the client writes its 4-byte handshake and then only whole PONG frames
// within the limit, each echoing a PING payload of the input; everything ends (no hang).
#include "fuzz_support.hpp"

#include "../../lib/transport/rawsocket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace detail = wampbox::transport::detail;
using boost::system::error_code;

namespace {

/// The client's receive limit (announced as 2^(9+1) = 1024), small enough for the fuzzer to
/// send frames above it.
constexpr std::size_t receive_limit = 1000;

/// One frame of a RawSocket byte stream.
struct frame {
  std::uint8_t type;
  std::string payload;
};

/// Splits `bytes` into whole frames; false when it ends inside one.
bool split_frames(const std::string& bytes, std::vector<frame>& out) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) return false;
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[at + i]); };
    const std::size_t length = (std::size_t{b(1)} << 16) | (std::size_t{b(2)} << 8) | b(3);
    if (bytes.size() - at - 4 < length) return false;
    out.push_back({b(0), bytes.substr(at + 4, length)});
    at += 4 + length;
  }
  return true;
}

/// Reads the next message until the transport fails; counts what it delivers.
void receive_all(const std::shared_ptr<wampbox::transport::transport>& t, std::size_t& delivered) {
  t->async_receive([t, &delivered](error_code ec, std::string message) {
    if (ec) return;
    fuzz::require(message.size() <= receive_limit, "a message above the limit was delivered");
    ++delivered;
    receive_all(t, delivered);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  asio::io_context ioc;
  asio::local::stream_protocol::socket peer(ioc), client_end(ioc);
  asio::local::connect_pair(peer, client_end);
  detail::generic_socket client(std::move(client_end));

  // The peer: send everything, then half-close; read until the client closes.
  asio::async_write(peer, asio::buffer(input), [&](error_code, std::size_t) {
    error_code ignored;
    peer.shutdown(asio::socket_base::shutdown_send, ignored);
  });
  std::string written;
  std::array<char, 4096> chunk{};
  std::function<void()> read_more = [&] {
    peer.async_read_some(asio::buffer(chunk), [&](error_code ec, std::size_t n) {
      written.append(chunk.data(), n);
      if (!ec) read_more();
    });
  };
  read_more();

  std::size_t delivered = 0;
  detail::async_rawsocket_handshake(
      client, wampbox::wire::serializer_kind::json, receive_limit,
      [&](error_code ec, std::size_t router_max) {
        if (ec) {
          error_code ignored;
          client.close(ignored);
          return;
        }
        receive_all(
            detail::make_rawsocket_transport(
                std::move(client), wampbox::wire::serializer_kind::json, receive_limit, router_max),
            delivered);
      });
  ioc.run();

  fuzz::require(written.size() >= 4, "the client sent no handshake");
  std::vector<frame> frames;
  fuzz::require(split_frames(written.substr(4), frames), "the client wrote a partial frame");
  std::vector<frame> sent;
  if (input.size() > 4) split_frames(input.substr(4), sent);  // a trailing partial frame is dropped
  std::set<std::string> pings;
  std::size_t ping_count = 0;
  for (const frame& f : sent) {
    if (f.type != 1) continue;
    pings.insert(f.payload);
    ++ping_count;
  }
  for (const frame& f : frames) {
    fuzz::require(f.type == 2, "the client wrote something else than a PONG");
    fuzz::require(f.payload.size() <= receive_limit, "a PONG above the limit");
    fuzz::require(pings.contains(f.payload), "a PONG that echoes no PING");
  }
  fuzz::require(frames.size() <= ping_count, "more PONGs than PINGs");
  return 0;
}
