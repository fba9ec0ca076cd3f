// wampbox — transport URL parsing (internal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wampbox::transport::detail {

/// Which transport and socket kind a URL names.
enum class url_kind { websocket, rawsocket_tcp, rawsocket_unix };

/// A parsed transport URL.
struct endpoint_url {
  url_kind kind = url_kind::websocket;
  /// True for wss:// and rss:// (TLS on the TCP connection).
  bool tls = false;
  /// Host to resolve (IPv6 without brackets); empty for Unix sockets.
  std::string host;
  /// TCP port; 0 for Unix sockets.
  std::uint16_t port = 0;
  /// WebSocket: `Host` header value ("host:port", IPv6 bracketed).
  std::string host_header;
  /// WebSocket: request target (path plus query, at least "/").
  std::string target;
  /// Unix sockets: absolute, percent-decoded socket path.
  std::string unix_path;
};

/// Parses `ws://host[:port][/path]`, `wss://host[:port][/path]`, `rs://host:port`,
/// `tcp://host:port`, `rss://host:port` or `unix:///abs/path`.
/// Throws `wampbox::error` (errc::invalid_url) whose what() says what is wrong.
endpoint_url parse_url(std::string_view url);

}  // namespace wampbox::transport::detail
