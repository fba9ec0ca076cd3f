#include "websocket.hpp"

#include <wampbox/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <limits>

namespace wampbox::transport::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

// One class for plain and TLS WebSocket.
template <typename WebSocket>
class websocket_transport final : public message_stream {
 public:
  websocket_transport(std::unique_ptr<WebSocket> ws, wire::serializer_kind serializer,
                      std::chrono::milliseconds close_timeout, link_settings link)
      : message_stream(ws->get_executor(), serializer, std::numeric_limits<std::size_t>::max(),
                       std::move(link)),
        ws_(std::move(ws)),
        close_timer_(ws_->get_executor()),
        close_timeout_(close_timeout) {
    ws_->text(wire::is_text(serializer));
    // Pings, pongs and close frames are handled inside Beast's read; they show the router is
    // alive all the same. Called only within a read, which keeps the transport alive.
    ws_->control_callback([this](websocket::frame_type, beast::string_view) { frame_received(); });
  }

 private:
  void start_write(const std::string& payload, frame_kind kind, send_handler done) override {
    // Pings complete with (ec), writes with (ec, bytes).
    auto written = [self = shared_from_this(), done = std::move(done)](error_code ec, auto...) {
      done(ec);
    };
    // No pongs come here: Beast answers WebSocket pings itself.
    if (kind == frame_kind::ping)
      ws_->async_ping({}, std::move(written));
    else
      ws_->async_write(asio::buffer(payload), std::move(written));
  }

  void start_read(receive_handler done) override {
    ws_->async_read(
        in_, [self = shared_from_this(), this, done = std::move(done)](error_code ec, std::size_t) {
          if (ec) return done(ec, {});
          std::string message = beast::buffers_to_string(in_.data());
          in_.consume(in_.size());
          done({}, std::move(message));
        });
  }

  void shutdown(bool graceful) override {
    if (!graceful || !ws_->is_open()) return close_socket();
    // Best-effort closing handshake; the timer cuts it short if the router does not answer.
    close_timer_.expires_after(close_timeout_);
    close_timer_.async_wait([self = shared_from_this(), this](error_code ec) {
      if (!ec) close_socket();
    });
    ws_->async_close(websocket::close_code::normal, [self = shared_from_this(), this](error_code) {
      close_timer_.cancel();
      close_socket();
    });
  }

  error_code translate(error_code ec) const override {
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow)
      return errc::message_too_large;
    if (ec == websocket::error::closed) return errc::transport_closed;
    return ec;
  }

  void close_socket() {
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();
  }

  std::unique_ptr<WebSocket> ws_;
  beast::flat_buffer in_;
  asio::steady_timer close_timer_;
  std::chrono::milliseconds close_timeout_;
};

}  // namespace

template <typename WebSocket>
void async_websocket_handshake(WebSocket& ws, const std::string& host_header,
                               const std::string& target, wire::serializer_kind serializer,
                               std::size_t max_message_size,
                               std::function<void(error_code)> handler) {
  const std::string subprotocol(wire::websocket_subprotocol(serializer));
  ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, subprotocol);
  }));
  ws.read_message_max(max_message_size);
  auto response = std::make_shared<websocket::response_type>();
  ws.async_handshake(
      *response, host_header, target,
      [response, subprotocol, handler = std::move(handler)](error_code ec) {
        if (ec == websocket::condition::handshake_failed)
          ec = errc::handshake_failed;
        else if (!ec && (*response)[beast::http::field::sec_websocket_protocol] != subprotocol)
          ec = errc::serializer_unsupported;
        handler(ec);
      });
}

template <typename WebSocket>
std::shared_ptr<transport> make_websocket_transport(std::unique_ptr<WebSocket> ws,
                                                    wire::serializer_kind serializer,
                                                    std::chrono::milliseconds close_timeout,
                                                    link_settings link) {
  return std::make_shared<websocket_transport<WebSocket>>(std::move(ws), serializer, close_timeout,
                                                          std::move(link));
}

template void async_websocket_handshake(websocket_stream&, const std::string&, const std::string&,
                                        wire::serializer_kind, std::size_t,
                                        std::function<void(error_code)>);
template void async_websocket_handshake(tls_websocket_stream&, const std::string&,
                                        const std::string&, wire::serializer_kind, std::size_t,
                                        std::function<void(error_code)>);
template std::shared_ptr<transport> make_websocket_transport(std::unique_ptr<websocket_stream>,
                                                             wire::serializer_kind,
                                                             std::chrono::milliseconds,
                                                             link_settings);
template std::shared_ptr<transport> make_websocket_transport(std::unique_ptr<tls_websocket_stream>,
                                                             wire::serializer_kind,
                                                             std::chrono::milliseconds,
                                                             link_settings);

}  // namespace wampbox::transport::detail
