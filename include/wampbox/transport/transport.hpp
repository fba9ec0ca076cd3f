// wampbox — transports: one serialized WAMP message in, one out.
//
// The session layer sees only this interface, so it is independent of RawSocket vs WebSocket
// and of the socket kind (TCP, Unix domain).
#pragma once

#include <wampbox/export.hpp>

#include <wampbox/wire/serializer_kind.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport {

/// How to reach a router.
struct transport_options {
  transport_options() = default;  // not an aggregate: see session/types.hpp on GCC 12
  /// Options for `url` with the given serializer.
  transport_options(std::string url_, wire::serializer_kind serializer_)
      : url(std::move(url_)), serializer(serializer_) {}
  /// `ws://host:port/path` (WebSocket), `wss://host:port/path` (WebSocket over TLS),
  /// `rs://host:port` (RawSocket over TCP), `rss://host:port` (RawSocket over TLS),
  /// `unix:///path/to/socket` (RawSocket over a Unix domain socket).
  std::string url;
  /// Serializer to negotiate (WebSocket subprotocol or RawSocket handshake).
  wire::serializer_kind serializer = wire::serializer_kind::json;
  /// Largest message accepted on receive, in bytes. RawSocket announces it (rounded up to a
  /// power of two, 512 B .. 16 MiB); WebSocket enforces it as the read limit.
  std::size_t max_message_size = 16 * 1024 * 1024;
  /// Time allowed for TCP connect plus TLS and transport handshake.
  std::chrono::milliseconds handshake_timeout{10'000};

  // TLS (wss://, rss://). The router's certificate chain and host name (the URL's host: DNS
  // name or IP address, also sent as SNI) are always verified; there is no switch to turn that
  // off. For a self-signed router certificate, give that certificate as `tls_ca_file`.

  /// PEM file of CA certificates to trust. When this or `tls_ca_dir` is set, only these CAs are
  /// trusted; when both are empty, the system's trust store is.
  std::string tls_ca_file;
  /// Directory of CA certificates to trust, in OpenSSL's hashed layout (`openssl rehash DIR`).
  std::string tls_ca_dir;
  /// Client certificate (PEM, may be followed by its intermediate CAs) for mutual TLS; needs
  /// `tls_key_file`.
  std::string tls_certificate_file;
  /// Private key (PEM, unencrypted) of `tls_certificate_file`.
  std::string tls_key_file;

  // Keep-alive: detects a dead router, a frozen one, or a half-open TCP connection (a peer
  // that vanished without a FIN), which TCP alone notices only after many minutes, if ever.

  /// After this long without receiving anything from the router, send a ping: a WebSocket
  /// ping, or with `rawsocket_keepalive` a RawSocket PING. Zero turns keep-alive off. On by
  /// default for WebSocket: every WebSocket router must answer pings (RFC 6455), and a ping
  /// every 20 s of silence costs nothing. Only runs while a receive is pending (a session always
  /// has one).
  std::chrono::milliseconds keepalive_interval{20'000};
  /// Time the router has to send anything (the pong, or any message) after a ping; past it the
  /// transport fails with errc::keepalive_timeout and pending operations fail.
  std::chrono::milliseconds keepalive_timeout{10'000};
  /// Send RawSocket PINGs too (rs://, rss://, unix://). Off by default because Crossbar.io and
  /// Autobahn|Python do not implement RawSocket PING: they read the frame as an oversized
  /// message and drop the connection. Turn it on for routers that answer PING with PONG as the
  /// RawSocket spec says.
  bool rawsocket_keepalive = false;
};

/// One connected transport carrying serialized WAMP messages.
///
/// Thread safety: all member functions must be called from the transport's executor; handlers
/// run there too. Sends may be issued while a previous send is pending (they are queued in order).
///
/// Lifetime: transports are always held by shared_ptr; every pending operation keeps the object
/// alive, so the caller may drop its reference while operations are pending. Dropping the last
/// reference with nothing pending drops the connection abruptly (no WebSocket closing
/// handshake); call close() for an orderly shutdown. Failures never complete handlers inside the
/// initiating call: they are posted to the executor.
class WAMPBOX_API transport {
 public:
  /// Defined in the library (the class's key function): its vtable and typeinfo live there,
  /// exported the same at every optimization level.
  virtual ~transport();

  /// The negotiated serializer.
  virtual wire::serializer_kind serializer() const noexcept = 0;
  /// Largest message the peer accepts (RawSocket: negotiated; WebSocket: unlimited).
  virtual std::size_t max_send_size() const noexcept = 0;
  /// The executor all I/O runs on.
  virtual boost::asio::any_io_executor get_executor() const = 0;
  /// TLS channel-binding data of type "tls-unique" (RFC 5929: the first Finished message of
  /// the handshake, as sent by the client in a full handshake), used by WAMP-Cryptosign; empty
  /// when the transport is not TLS. Autobahn and Crossbar.io bind to SHA-256 of these bytes.
  /// TLS 1.3 defines no tls-unique (RFC 9266); there it is the client's Finished message all
  /// the same, which is what Crossbar.io (pyOpenSSL's get_finished) computes too.
  virtual std::string channel_binding_tls_unique() const { return {}; }

  /// Queues one serialized message for sending; `handler(ec)` runs when it has been written
  /// or has failed. A message above `max_send_size()` fails with errc::message_too_large.
  virtual void async_send(std::string message,
                          std::function<void(boost::system::error_code)> handler) = 0;
  /// Receives the next message. Only one receive may be pending at a time (a second one fails
  /// with boost::asio::error::already_started). A message above the configured maximum fails
  /// with errc::message_too_large and the transport is closed; so does any other receive error.
  /// The peer ending the connection gives errc::transport_closed.
  virtual void async_receive(
      std::function<void(boost::system::error_code, std::string)> handler) = 0;
  /// Closes the transport: pending and later operations complete with errc::transport_closed
  /// (never operation_aborted). WebSocket sends a close frame first, bounded by the handshake
  /// timeout. Idempotent.
  virtual void close() = 0;
};

/// Connects a transport as `options.url` says; `handler(ec, transport)` runs on `executor`.
/// Errors: errc::invalid_url, network errors, errc::handshake_failed (also a TLS handshake the
/// router refused), errc::tls_verification_failed, errc::tls_setup_failed,
/// errc::serializer_unsupported, errc::max_length_unacceptable, errc::connection_limit,
/// boost::asio::error::timed_out, and boost::asio::error::operation_aborted when `cancel` is
/// emitted (which closes the half-made connection). The slot is cleared before `handler` runs.
WAMPBOX_API void connect(
    boost::asio::any_io_executor executor, transport_options options,
    std::function<void(boost::system::error_code, std::shared_ptr<transport>)> handler,
    boost::asio::cancellation_slot cancel = {});

/// Completion-token form of `connect`: signature `void(error_code, std::shared_ptr<transport>)`.
template <typename CompletionToken>
auto async_connect(boost::asio::any_io_executor executor, transport_options options,
                   CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken,
                                     void(boost::system::error_code, std::shared_ptr<transport>)>(
      [executor](auto handler, transport_options opts) mutable {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        connect(
            executor, std::move(opts),
            [h = std::make_shared<decltype(handler)>(std::move(handler))](
                boost::system::error_code ec, std::shared_ptr<transport> t) mutable {
              std::move (*h)(ec, std::move(t));
            },
            slot);
      },
      token, std::move(options));
}

}  // namespace wampbox::transport
