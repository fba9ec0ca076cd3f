#include "rawsocket.hpp"

#include "tls.hpp"

#include <wampbox/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <limits>

namespace wampbox::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::uint8_t magic = 0x7F;

// Frame types in the low 3 bits of a frame header's first byte.
enum class frame_type : std::uint8_t { message = 0, ping = 1, pong = 2 };

frame_type type_of(frame_kind kind) {
  switch (kind) {
    case frame_kind::message: return frame_type::message;
    case frame_kind::ping: return frame_type::ping;
    case frame_kind::pong: return frame_type::pong;
  }
  return frame_type::message;
}

using header = std::array<std::uint8_t, 4>;

header make_frame_header(frame_type type, std::size_t length) {
  return {static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(length >> 16),
          static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

// Maps the router's handshake reply to its receive limit, or to an error.
error_code check_handshake_reply(const header& reply, wire::serializer_kind requested,
                                 std::size_t& router_max) {
  if (reply[0] != magic) return errc::handshake_failed;
  const std::uint8_t high = reply[1] >> 4;
  const std::uint8_t low = reply[1] & 0x0F;
  if (low == 0) {
    switch (high) {
      case 1: return errc::serializer_unsupported;
      case 2: return errc::max_length_unacceptable;
      case 3: return errc::use_of_reserved_bits;
      case 4: return errc::connection_limit;
      default: return errc::handshake_failed;
    }
  }
  if (low != wire::rawsocket_id(requested)) return errc::handshake_failed;
  // Bytes 2 and 3 are reserved; they are not checked, to stay lenient towards routers.
  router_max = rawsocket_max_length(high);
  return {};
}

// One class for every stream kind: TCP, Unix domain socket, TLS.
template <typename Stream>
class rawsocket_transport final : public message_stream {
 public:
  rawsocket_transport(Stream socket, wire::serializer_kind serializer, std::size_t receive_limit,
                      std::size_t send_limit, link_settings link)
      : message_stream(socket.get_executor(), serializer, send_limit, std::move(link)),
        socket_(std::move(socket)),
        receive_limit_(receive_limit) {}

 private:
  void start_write(const std::string& payload, frame_kind kind, send_handler done) override {
    out_header_ = make_frame_header(type_of(kind), payload.size());
    const std::array<asio::const_buffer, 2> frame{asio::buffer(out_header_), asio::buffer(payload)};
    asio::async_write(socket_, frame,
                      [self = shared_from_this(), done = std::move(done)](
                          error_code ec, std::size_t) { done(ec); });
  }

  void start_read(receive_handler done) override {
    asio::async_read(socket_, asio::buffer(in_header_),
                     [self = shared_from_this(), this, done = std::move(done)](
                         error_code ec, std::size_t) mutable {
                       if (ec) return done(ec, {});
                       on_header(std::move(done));
                     });
  }

  void on_header(receive_handler done) {
    frame_received();
    const std::uint8_t type = in_header_[0];
    const std::size_t length = (std::size_t{in_header_[1]} << 16) |
                               (std::size_t{in_header_[2]} << 8) | std::size_t{in_header_[3]};
    // Reserved bits set or an unknown frame type: the stream cannot be trusted any more.
    if (type > static_cast<std::uint8_t>(frame_type::pong))
      return done(errc::malformed_message, {});
    // Checked before allocating, so an oversized announcement costs nothing.
    if (length > receive_limit_) return done(errc::message_too_large, {});
    in_payload_.assign(length, '\0');
    asio::async_read(socket_, asio::buffer(in_payload_),
                     [self = shared_from_this(), this, type, done = std::move(done)](
                         error_code ec, std::size_t) mutable {
                       if (ec) return done(ec, {});
                       switch (static_cast<frame_type>(type)) {
                         case frame_type::message: return done({}, std::move(in_payload_));
                         case frame_type::ping:
                           queue_control(std::move(in_payload_), frame_kind::pong);
                           break;
                         case frame_type::pong: break;  // unsolicited or late PONG: nothing to do
                       }
                       start_read(std::move(done));
                     });
  }

  // RawSocket has no closing handshake; on TLS, no close_notify either: the WAMP session
  // ended (GOODBYE) before, so a truncation cannot go unnoticed.
  void shutdown(bool) override {
    error_code ignored;
    socket_.lowest_layer().shutdown(generic_socket::shutdown_both, ignored);
    socket_.lowest_layer().close(ignored);
  }

  Stream socket_;
  std::size_t receive_limit_;
  header out_header_{};
  header in_header_{};
  std::string in_payload_;
};

}  // namespace

std::uint8_t rawsocket_length_exponent(std::size_t max_message_size) noexcept {
  std::uint8_t exponent = 0;
  while (exponent < 15 && (std::size_t{1} << (9 + exponent)) < max_message_size) ++exponent;
  return exponent;
}

std::size_t rawsocket_max_length(std::uint8_t exponent) noexcept {
  return std::min(std::size_t{1} << (9 + exponent), rawsocket_frame_limit);
}

template <typename Stream>
void async_rawsocket_handshake(Stream& socket, wire::serializer_kind serializer,
                               std::size_t max_message_size, rawsocket_handshake_handler handler) {
  // Request and reply live in one heap block that the completion handlers keep alive.
  struct exchange {
    header request;
    header reply{};
    rawsocket_handshake_handler handler;
  };
  auto state = std::make_shared<exchange>(
      exchange{{magic,
                static_cast<std::uint8_t>((rawsocket_length_exponent(max_message_size) << 4) |
                                          wire::rawsocket_id(serializer)),
                0, 0},
               {},
               std::move(handler)});
  asio::async_write(socket, asio::buffer(state->request),
                    [&socket, state, serializer](error_code ec, std::size_t) {
                      if (ec) return state->handler(ec, 0);
                      asio::async_read(socket, asio::buffer(state->reply),
                                       [state, serializer](error_code ec, std::size_t) {
                                         std::size_t router_max = 0;
                                         if (ec == asio::error::eof) ec = errc::handshake_failed;
                                         if (!ec)
                                           ec = check_handshake_reply(state->reply, serializer,
                                                                      router_max);
                                         state->handler(ec, router_max);
                                       });
                    });
}

template <typename Stream>
std::shared_ptr<transport> make_rawsocket_transport(Stream socket, wire::serializer_kind serializer,
                                                    std::size_t receive_limit,
                                                    std::size_t send_limit, link_settings link) {
  return std::make_shared<rawsocket_transport<Stream>>(std::move(socket), serializer, receive_limit,
                                                       send_limit, std::move(link));
}

template void async_rawsocket_handshake(generic_socket&, wire::serializer_kind, std::size_t,
                                        rawsocket_handshake_handler);
template void async_rawsocket_handshake(tls_socket&, wire::serializer_kind, std::size_t,
                                        rawsocket_handshake_handler);
template std::shared_ptr<transport> make_rawsocket_transport(generic_socket, wire::serializer_kind,
                                                             std::size_t, std::size_t,
                                                             link_settings);
template std::shared_ptr<transport> make_rawsocket_transport(tls_socket, wire::serializer_kind,
                                                             std::size_t, std::size_t,
                                                             link_settings);

}  // namespace wampbox::transport::detail
