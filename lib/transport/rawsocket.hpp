// wampbox — WAMP RawSocket transport (internal).
#pragma once

#include "message_stream.hpp"

#include <boost/asio/generic/stream_protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace wampbox::transport::detail {

/// Any connected stream socket: TCP or Unix domain (both convert into it by move).
using generic_socket = boost::asio::generic::stream_protocol::socket;

/// Largest frame payload the 24-bit RawSocket length field can carry.
inline constexpr std::size_t rawsocket_frame_limit = 0xFFFFFF;

/// The LENGTH exponent announcing at least `max_message_size` bytes: max = 2^(9+LENGTH),
/// LENGTH in 0..15 (capped at 15).
std::uint8_t rawsocket_length_exponent(std::size_t max_message_size) noexcept;

/// The usable payload limit for an exponent: 2^(9+LENGTH), clipped to the 24-bit field.
std::size_t rawsocket_max_length(std::uint8_t exponent) noexcept;

/// Result of the client handshake: the router's own receive limit.
using rawsocket_handshake_handler = std::function<void(boost::system::error_code, std::size_t)>;

/// Runs the client side of the RawSocket handshake on a connected stream. On success
/// `handler(ec, router_max)` receives the largest message the router accepts. Router error
/// replies map to errc::serializer_unsupported / max_length_unacceptable /
/// use_of_reserved_bits / connection_limit; anything malformed to errc::handshake_failed.
/// `Stream` is `generic_socket` or `tls_socket` (instantiated in rawsocket.cpp).
template <typename Stream>
void async_rawsocket_handshake(Stream& stream, wire::serializer_kind serializer,
                               std::size_t max_message_size, rawsocket_handshake_handler handler);

/// Wraps a stream that completed the handshake. `receive_limit` is the announced maximum of
/// incoming frames, `send_limit` the router's. `Stream` as for async_rawsocket_handshake.
template <typename Stream>
std::shared_ptr<transport> make_rawsocket_transport(Stream stream, wire::serializer_kind serializer,
                                                    std::size_t receive_limit,
                                                    std::size_t send_limit,
                                                    link_settings link = {});

}  // namespace wampbox::transport::detail
