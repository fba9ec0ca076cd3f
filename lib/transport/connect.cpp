// wampbox — transport::connect: URL dispatch, resolve, connect, TLS and transport handshake,
// under one deadline.
#include "connect.hpp"

#include "rawsocket.hpp"
#include "tls.hpp"
#include "url.hpp"
#include "websocket.hpp"

#include <wampbox/error.hpp>

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

// The TLS handle of a connected stream, for the channel binding; nullptr for plain streams.
SSL* tls_handle(detail::generic_socket&) { return nullptr; }
SSL* tls_handle(detail::tls_socket& s) { return s.native_handle(); }
SSL* tls_handle(detail::websocket_stream&) { return nullptr; }
SSL* tls_handle(detail::tls_websocket_stream& ws) { return ws.next_layer().native_handle(); }

tcp::socket& tcp_socket_of(detail::websocket_stream& ws) {
  return boost::beast::get_lowest_layer(ws).socket();
}
tcp::socket& tcp_socket_of(detail::tls_websocket_stream& ws) {
  return boost::beast::get_lowest_layer(ws).socket();
}

// One connection attempt. It keeps itself alive through the shared_ptr captured by every
// pending handler; a steady_timer bounds the whole attempt and, on expiry, closes whatever
// is in progress so that the pending step fails and the attempt reports timed_out.
class connector : public std::enable_shared_from_this<connector> {
 public:
  connector(asio::any_io_executor executor, transport_options options, detail::endpoint_url url,
            std::shared_ptr<asio::ssl::context> tls_context,
            detail::detailed_connect_handler handler, asio::cancellation_slot cancel)
      : cancel_(cancel),
        executor_(executor),
        options_(std::move(options)),
        url_(std::move(url)),
        tls_context_(std::move(tls_context)),
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
        if (url_.tls) {
          wss_ = std::make_unique<detail::tls_websocket_stream>(executor_, *tls_context_);
          return resolve_and_connect(tcp_socket_of(*wss_), [self = shared_from_this()] {
            self->tls_handshake(self->wss_->next_layer(),
                                [self] { self->websocket_handshake(self->wss_); });
          });
        }
        ws_ = std::make_unique<detail::websocket_stream>(executor_);
        return resolve_and_connect(tcp_socket_of(*ws_), [self = shared_from_this()] {
          self->websocket_handshake(self->ws_);
        });
      case detail::url_kind::rawsocket_tcp:
        if (url_.tls) {
          rss_.emplace(executor_, *tls_context_);
          return resolve_and_connect(rss_->next_layer(), [self = shared_from_this()] {
            self->tls_handshake(*self->rss_, [self] { self->rawsocket_handshake(*self->rss_); });
          });
        }
        return resolve_and_connect(tcp_socket_, [self = shared_from_this()] {
          self->raw_socket_ = detail::generic_socket(std::move(self->tcp_socket_));
          self->rawsocket_handshake(self->raw_socket_);
        });
      case detail::url_kind::rawsocket_unix:
        return unix_socket_.async_connect(
            asio::local::stream_protocol::endpoint(url_.unix_path),
            [self = shared_from_this()](error_code ec) {
              if (self->failed(ec)) return;
              self->raw_socket_ = detail::generic_socket(std::move(self->unix_socket_));
              self->rawsocket_handshake(self->raw_socket_);
            });
    }
  }

 private:
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

  // The TLS handshake on a connected TCP stream, verifying the router as url_.host.
  template <typename NextLayer, typename Next>
  void tls_handshake(asio::ssl::stream<NextLayer>& stream, Next next) {
    try {
      verification_.prepare(stream, url_.host);
    } catch (const error& e) {
      reason_ = e.what();
      finish(e.code(), nullptr);
      return;
    }
    stream.async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this(), next = std::move(next)](error_code ec) {
                             if (!self->failed(ec)) next();
                           });
  }

  template <typename Stream>
  void rawsocket_handshake(Stream& stream) {
    detail::async_rawsocket_handshake(
        stream, options_.serializer, options_.max_message_size,
        [self = shared_from_this(), &stream](error_code ec, std::size_t router_max) {
          if (self->failed(ec)) return;
          const auto receive_limit = detail::rawsocket_max_length(
              detail::rawsocket_length_exponent(self->options_.max_message_size));
          auto link = self->link_for(tls_handle(stream), self->options_.rawsocket_keepalive);
          self->finish(
              {}, detail::make_rawsocket_transport(std::move(stream), self->options_.serializer,
                                                   receive_limit, router_max, std::move(link)));
        });
  }

  template <typename WebSocket>
  void websocket_handshake(std::unique_ptr<WebSocket>& ws) {
    detail::async_websocket_handshake(
        *ws, url_.host_header, url_.target, options_.serializer, options_.max_message_size,
        [self = shared_from_this(), &ws](error_code ec) {
          if (self->failed(ec)) return;
          auto link = self->link_for(tls_handle(*ws), true);
          self->finish({}, detail::make_websocket_transport(
                               std::move(ws), self->options_.serializer,
                               self->options_.handshake_timeout, std::move(link)));
        });
  }

  // Keep-alive settings (when the transport may ping), channel binding and TLS context.
  detail::link_settings link_for(SSL* tls, bool may_ping) const {
    detail::link_settings link;
    if (may_ping) {
      link.keepalive_interval = options_.keepalive_interval;
      link.keepalive_timeout = options_.keepalive_timeout;
    }
    if (tls) link.tls_unique = detail::tls_unique(tls);
    link.keep = tls_context_;
    return link;
  }

  // Ends the attempt when a step failed or the deadline passed meanwhile (a step that
  // completed just as the timer fired must not start the next one).
  bool failed(error_code ec) {
    if (!ec && !stopped_) return false;
    // Every step after TCP connect runs over TLS on wss:// and rss:// (with TLS 1.3 the router
    // refuses a client certificate only after the client's handshake finished).
    if (ec && url_.tls) ec = verification_.classify(ec, reason_);
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
    if (ws_) tcp_socket_of(*ws_).close(ignored);
    if (wss_) tcp_socket_of(*wss_).close(ignored);
    if (rss_) rss_->lowest_layer().close(ignored);
  }

  void finish(error_code ec, std::shared_ptr<transport> result) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    if (cancel_.is_connected()) cancel_.clear();
    if (stopped_) {
      ec = stopped_;
      reason_.clear();
      result.reset();
    }
    handler_(ec, std::move(reason_), std::move(result));
  }

  asio::cancellation_slot cancel_;
  asio::any_io_executor executor_;
  transport_options options_;
  detail::endpoint_url url_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // wss:// and rss:// only
  detail::detailed_connect_handler handler_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  tcp::socket tcp_socket_;
  asio::local::stream_protocol::socket unix_socket_;
  detail::generic_socket raw_socket_;
  std::unique_ptr<detail::websocket_stream> ws_;
  std::unique_ptr<detail::tls_websocket_stream> wss_;
  std::optional<detail::tls_socket> rss_;
  detail::tls_verification verification_;
  std::string reason_;  // for users, beside the error code
  error_code stopped_;  // why the attempt was stopped (timed_out, operation_aborted)
  bool done_ = false;
};

}  // namespace

namespace detail {

void connect_with_reason(asio::any_io_executor executor, transport_options options,
                         detailed_connect_handler handler, asio::cancellation_slot cancel) {
  endpoint_url url;
  std::shared_ptr<asio::ssl::context> tls_context;
  try {
    url = parse_url(options.url);
    if (url.tls) tls_context = make_tls_context(options);
  } catch (const error& e) {
    // An invalid URL's code says enough; which TLS file failed needs the reason.
    std::string reason = e.code() == errc::tls_setup_failed ? e.what() : "";
    asio::post(executor, [handler = std::move(handler), code = e.code(),
                          reason = std::move(reason)] { handler(code, reason, {}); });
    return;
  }
  std::make_shared<connector>(executor, std::move(options), std::move(url), std::move(tls_context),
                              std::move(handler), cancel)
      ->start();
}

}  // namespace detail

transport::~transport() = default;

void connect(asio::any_io_executor executor, transport_options options,
             std::function<void(error_code, std::shared_ptr<transport>)> handler,
             asio::cancellation_slot cancel) {
  detail::connect_with_reason(
      executor, std::move(options),
      [handler = std::move(handler)](error_code ec, std::string, std::shared_ptr<transport> t) {
        handler(ec, std::move(t));
      },
      cancel);
}

}  // namespace wampbox::transport
