// wampbox — WAMP over WebSocket transport (internal).
#pragma once

#include "message_stream.hpp"

// Beast 1.81's HTTP parser trips GCC 12's -Wmaybe-uninitialized (a false positive on
// boost::optional) when optimizing with sanitizers; Boost comes in via -I, not -isystem.
// Clang has no such warning (and would warn about the unknown name).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// The WebSocket stream ws:// runs on.
using websocket_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
/// The WebSocket stream wss:// runs on.
using tls_websocket_stream =
    boost::beast::websocket::stream<boost::asio::ssl::stream<boost::beast::tcp_stream>>;

/// Runs the client opening handshake on a connected stream, offering only the subprotocol of
/// `serializer`. The router must choose it (otherwise errc::serializer_unsupported); other
/// WebSocket handshake failures are errc::handshake_failed. Also sets the read limit.
/// `WebSocket` is `websocket_stream` or `tls_websocket_stream` (instantiated in websocket.cpp).
template <typename WebSocket>
void async_websocket_handshake(WebSocket& ws, const std::string& host_header,
                               const std::string& target, wire::serializer_kind serializer,
                               std::size_t max_message_size,
                               std::function<void(boost::system::error_code)> handler);

/// Wraps a stream that completed the handshake. `close_timeout` bounds the closing handshake.
template <typename WebSocket>
std::shared_ptr<transport> make_websocket_transport(std::unique_ptr<WebSocket> ws,
                                                    wire::serializer_kind serializer,
                                                    std::chrono::milliseconds close_timeout,
                                                    link_settings link);

}  // namespace wampbox::transport::detail
