// wampbox — shared machinery of the RawSocket and WebSocket transports (internal).
#pragma once

#include <wampbox/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// Kind of an outgoing frame: a WAMP message from the caller, or a transport-level PONG.
enum class frame_kind { message, pong };

/// Implements the `transport` interface on top of three primitives a concrete transport
/// provides: write one frame, read one message, shut the stream down.
///
/// It owns the in-order send queue (one write in flight), the single pending receive, the
/// size check on sends, error translation and the idempotent close. Every completion handler
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

  void async_send(std::string message, send_handler handler) final;
  void async_receive(receive_handler handler) final;
  void close() final;

 protected:
  message_stream(boost::asio::any_io_executor executor, wire::serializer_kind serializer,
                 std::size_t max_send_size);

  /// Writes one whole frame. `payload` stays valid and unchanged until `done` runs.
  virtual void start_write(const std::string& payload, frame_kind kind, send_handler done) = 0;
  /// Reads the next whole WAMP message (transport control frames are handled inside).
  virtual void start_read(receive_handler done) = 0;
  /// Shuts the underlying stream down so that pending reads and writes complete soon.
  virtual void shutdown() = 0;
  /// Maps a transport-specific error to a wampbox one (default: unchanged).
  virtual boost::system::error_code translate(boost::system::error_code ec) const { return ec; }

  /// Queues a transport control frame behind the pending messages; it has no handler. When one
  /// of the same kind is still waiting, it takes `payload` instead (at most one waits, one is in
  /// flight: a PING flood costs two PONGs of memory).
  void queue_control(std::string payload, frame_kind kind);
  /// True once close() ran (locally or after a failure).
  bool closed() const noexcept { return closed_; }

 private:
  struct outgoing {
    std::string payload;
    frame_kind kind;
    send_handler handler;  // empty for control frames
  };

  void enqueue(outgoing entry);
  void write_next();
  void on_written(boost::system::error_code ec);
  boost::system::error_code map_error(boost::system::error_code ec) const;

  boost::asio::any_io_executor executor_;
  wire::serializer_kind serializer_;
  std::size_t max_send_size_;
  std::deque<outgoing> queue_;  // front() is in flight while writing_
  bool writing_ = false;
  bool receiving_ = false;
  bool closed_ = false;
};

}  // namespace wampbox::transport::detail
