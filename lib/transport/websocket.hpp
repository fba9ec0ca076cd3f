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

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// The WebSocket stream type the transport runs on.
using websocket_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;

/// Runs the client opening handshake on a connected stream, offering only the subprotocol of
/// `serializer`. The router must choose it (otherwise errc::serializer_unsupported); other
/// WebSocket handshake failures are errc::handshake_failed. Also sets the read limit.
void async_websocket_handshake(websocket_stream& ws, const std::string& host_header,
                               const std::string& target, wire::serializer_kind serializer,
                               std::size_t max_message_size,
                               std::function<void(boost::system::error_code)> handler);

/// Wraps a stream that completed the handshake. `close_timeout` bounds the closing handshake.
std::shared_ptr<transport> make_websocket_transport(std::unique_ptr<websocket_stream> ws,
                                                    wire::serializer_kind serializer,
                                                    std::chrono::milliseconds close_timeout);

}  // namespace wampbox::transport::detail
