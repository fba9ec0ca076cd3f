// wampbox — transport::connect: URL dispatch, resolve, connect, handshake, under one deadline.
#include "rawsocket.hpp"
#include "url.hpp"
#include "websocket.hpp"

#include <wampbox/error.hpp>
#include <wampbox/transport/transport.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>

namespace wampbox::transport {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

using connect_handler = std::function<void(error_code, std::shared_ptr<transport>)>;

// One connection attempt. It keeps itself alive through the shared_ptr captured by every
// pending handler; a steady_timer bounds the whole attempt and, on expiry, closes whatever
// is in progress so that the pending step fails and the attempt reports timed_out.
class connector : public std::enable_shared_from_this<connector> {
 public:
  connector(asio::any_io_executor executor, transport_options options, detail::endpoint_url url,
            connect_handler handler, asio::cancellation_slot cancel)
      : cancel_(cancel),
        executor_(executor),
        options_(std::move(options)),
        url_(std::move(url)),
        handler_(std::move(handler)),
        timer_(executor),
        resolver_(executor),
        tcp_socket_(executor),
        unix_socket_(executor),
        raw_socket_(executor) {}

  void start() {
    timer_.expires_after(options_.handshake_timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->stop(asio::error::timed_out);
    });
    if (cancel_.is_connected()) {
      cancel_.assign([weak = weak_from_this()](asio::cancellation_type) {
        if (auto self = weak.lock()) self->stop(asio::error::operation_aborted);
      });
    }
    switch (url_.kind) {
      case detail::url_kind::websocket:
        ws_ = std::make_unique<detail::websocket_stream>(executor_);
        return resolve_and_connect(beast_socket(),
                                   [self = shared_from_this()] { self->websocket_handshake(); });
      case detail::url_kind::rawsocket_tcp:
        return resolve_and_connect(tcp_socket_, [self = shared_from_this()] {
          self->raw_socket_ = detail::generic_socket(std::move(self->tcp_socket_));
          self->rawsocket_handshake();
        });
      case detail::url_kind::rawsocket_unix:
        return unix_socket_.async_connect(
            asio::local::stream_protocol::endpoint(url_.unix_path),
            [self = shared_from_this()](error_code ec) {
              if (self->failed(ec)) return;
              self->raw_socket_ = detail::generic_socket(std::move(self->unix_socket_));
              self->rawsocket_handshake();
            });
    }
  }

 private:
  tcp::socket& beast_socket() { return boost::beast::get_lowest_layer(*ws_).socket(); }

  // Resolves url_.host:url_.port and connects `socket` to the first endpoint that answers.
  template <typename Next>
  void resolve_and_connect(tcp::socket& socket, Next next) {
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = shared_from_this(), &socket, next = std::move(next)](
                                error_code ec, tcp::resolver::results_type endpoints) mutable {
                              if (self->failed(ec)) return;
                              asio::async_connect(socket, endpoints,
                                                  [self, &socket, next = std::move(next)](
                                                      error_code ec, const tcp::endpoint&) {
                                                    if (self->failed(ec)) return;
                                                    // WAMP is small messages, often many in flight:
                                                    // Nagle's algorithm would hold each behind the
                                                    // previous one's ACK, which a delayed ACK holds
                                                    // for up to 40 ms.
                                                    error_code ignored;
                                                    socket.set_option(tcp::no_delay(true), ignored);
                                                    next();
                                                  });
                            });
  }

  void rawsocket_handshake() {
    detail::async_rawsocket_handshake(
        raw_socket_, options_.serializer, options_.max_message_size,
        [self = shared_from_this()](error_code ec, std::size_t router_max) {
          if (self->failed(ec)) return;
          const auto receive_limit = detail::rawsocket_max_length(
              detail::rawsocket_length_exponent(self->options_.max_message_size));
          self->finish({}, detail::make_rawsocket_transport(std::move(self->raw_socket_),
                                                            self->options_.serializer,
                                                            receive_limit, router_max));
        });
  }

  void websocket_handshake() {
    detail::async_websocket_handshake(
        *ws_, url_.host_header, url_.target, options_.serializer, options_.max_message_size,
        [self = shared_from_this()](error_code ec) {
          if (self->failed(ec)) return;
          self->finish(
              {}, detail::make_websocket_transport(std::move(self->ws_), self->options_.serializer,
                                                   self->options_.handshake_timeout));
        });
  }

  // Ends the attempt when a step failed or the deadline passed meanwhile (a step that
  // completed just as the timer fired must not start the next one).
  bool failed(error_code ec) {
    if (!ec && !stopped_) return false;
    finish(ec, nullptr);
    return true;
  }

  // Ends the attempt for `reason` (timed_out, operation_aborted): whatever is in progress
  // is closed, so that the pending step fails.
  void stop(error_code reason) {
    if (done_ || stopped_) return;
    stopped_ = reason;
    error_code ignored;
    resolver_.cancel();
    tcp_socket_.close(ignored);
    unix_socket_.close(ignored);
    raw_socket_.close(ignored);
    if (ws_) beast_socket().close(ignored);
  }

  void finish(error_code ec, std::shared_ptr<transport> result) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    if (cancel_.is_connected()) cancel_.clear();
    if (stopped_) {
      ec = stopped_;
      result.reset();
    }
    handler_(ec, std::move(result));
  }

  asio::cancellation_slot cancel_;
  asio::any_io_executor executor_;
  transport_options options_;
  detail::endpoint_url url_;
  connect_handler handler_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  tcp::socket tcp_socket_;
  asio::local::stream_protocol::socket unix_socket_;
  detail::generic_socket raw_socket_;
  std::unique_ptr<detail::websocket_stream> ws_;
  error_code stopped_;  // why the attempt was stopped (timed_out, operation_aborted)
  bool done_ = false;
};

}  // namespace

void connect(asio::any_io_executor executor, transport_options options,
             std::function<void(error_code, std::shared_ptr<transport>)> handler,
             asio::cancellation_slot cancel) {
  detail::endpoint_url url;
  try {
    url = detail::parse_url(options.url);
  } catch (const error& e) {
    asio::post(executor, [handler = std::move(handler), code = e.code()] { handler(code, {}); });
    return;
  }
  std::make_shared<connector>(executor, std::move(options), std::move(url), std::move(handler),
                              cancel)
      ->start();
}

}  // namespace wampbox::transport
