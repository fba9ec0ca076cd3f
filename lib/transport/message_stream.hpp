// wampbox — shared machinery of the RawSocket and WebSocket transports (internal).
#pragma once

#include <wampbox/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// Kind of an outgoing frame: a WAMP message from the caller, or a transport-level PING or PONG.
enum class frame_kind { message, ping, pong };

/// What a connected stream brings besides its bytes: keep-alive timing, the TLS channel
/// binding, and what must live as long as the stream (its TLS context).
struct link_settings {
  /// Idle time before a keep-alive ping; zero: no keep-alive.
  std::chrono::milliseconds keepalive_interval{0};
  /// Time the peer has to send anything after a keep-alive ping.
  std::chrono::milliseconds keepalive_timeout{0};
  /// tls-unique channel binding; empty for plain transports.
  std::string tls_unique;
  /// Kept alive with the transport (e.g. the TLS context the stream was made from).
  std::shared_ptr<const void> keep;
};

/// Implements the `transport` interface on top of three primitives a concrete transport
/// provides: write one frame, read one message, shut the stream down.
///
/// It owns the in-order send queue (one write in flight), the single pending receive, the
/// size check on sends, error translation, the idempotent close, and the keep-alive: while a
/// receive is pending and nothing arrived for `keepalive_interval`, a PING is queued; when
/// nothing (any frame counts) arrives within `keepalive_timeout` after it, the transport fails
/// with errc::keepalive_timeout. Every completion handler
/// holds a shared_ptr to the transport, so the object outlives its pending operations even when
/// the caller drops its reference.
///
/// Errors after `close()`: every pending or later operation completes with
/// errc::transport_closed (never asio::error::operation_aborted). End of stream from the peer is
/// errc::transport_closed as well. Any receive or send failure closes the transport.
class message_stream : public transport, public std::enable_shared_from_this<message_stream> {
 public:
  /// Handler of one send.
  using send_handler = std::function<void(boost::system::error_code)>;
  /// Handler of one receive.
  using receive_handler = std::function<void(boost::system::error_code, std::string)>;

  wire::serializer_kind serializer() const noexcept final { return serializer_; }
  std::size_t max_send_size() const noexcept final { return max_send_size_; }
  boost::asio::any_io_executor get_executor() const final { return executor_; }
  std::string channel_binding_tls_unique() const final { return link_.tls_unique; }

  void async_send(std::string message, send_handler handler) final;
  void async_receive(receive_handler handler) final;
  void close() final;

 protected:
  message_stream(boost::asio::any_io_executor executor, wire::serializer_kind serializer,
                 std::size_t max_send_size, link_settings link);

  /// Writes one whole frame. `payload` stays valid and unchanged until `done` runs.
  virtual void start_write(const std::string& payload, frame_kind kind, send_handler done) = 0;
  /// Reads the next whole WAMP message (transport control frames are handled inside, each
  /// reported through `frame_received`).
  virtual void start_read(receive_handler done) = 0;
  /// Shuts the underlying stream down so that pending reads and writes complete soon;
  /// `graceful` allows a closing handshake (bounded in time), else the socket closes at once.
  virtual void shutdown(bool graceful) = 0;
  /// Maps a transport-specific error to a wampbox one (default: unchanged).
  virtual boost::system::error_code translate(boost::system::error_code ec) const { return ec; }

  /// Queues a transport control frame behind the pending messages; it has no handler. When one
  /// of the same kind is still waiting, it takes `payload` instead (at most one waits, one is in
  /// flight: a PING flood costs two PONGs of memory).
  void queue_control(std::string payload, frame_kind kind);
  /// True once close() ran (locally or after a failure).
  bool closed() const noexcept { return closed_; }
  /// Notes that a frame (message or control frame) arrived: the peer is alive.
  void frame_received() noexcept { last_received_ = clock::now(); }

 private:
  using clock = std::chrono::steady_clock;

  struct outgoing {
    std::string payload;
    frame_kind kind;
    send_handler handler;  // empty for control frames
  };

  void enqueue(outgoing entry);
  void write_next();
  void on_written(boost::system::error_code ec);
  boost::system::error_code map_error(boost::system::error_code ec) const;
  // Closes the transport; pending and later operations complete with `reason`.
  void close_for(boost::system::error_code reason, bool graceful);
  // Keep-alive: waits until the next ping is due, or until the answer to one is overdue.
  void keepalive_wait(clock::time_point until);
  void keepalive_check();

  boost::asio::any_io_executor executor_;
  wire::serializer_kind serializer_;
  std::size_t max_send_size_;
  link_settings link_;
  std::deque<outgoing> queue_;  // front() is in flight while writing_
  bool writing_ = false;
  bool receiving_ = false;
  bool closed_ = false;
  boost::system::error_code close_reason_;  // what operations complete with once closed_
  boost::asio::steady_timer keepalive_timer_;
  bool keepalive_started_ = false;
  clock::time_point last_received_ = clock::now();
  clock::time_point ping_sent_ = clock::time_point::min();  // min(): no ping awaiting an answer
};

}  // namespace wampbox::transport::detail
