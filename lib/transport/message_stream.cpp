#include "message_stream.hpp"

#include <wampbox/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace wampbox::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

message_stream::message_stream(asio::any_io_executor executor, wire::serializer_kind serializer,
                               std::size_t max_send_size)
    : executor_(std::move(executor)), serializer_(serializer), max_send_size_(max_send_size) {}

void message_stream::async_send(std::string message, send_handler handler) {
  // Immediate failures are posted so that handlers never run inside the initiating call.
  error_code refusal;
  if (closed_)
    refusal = errc::transport_closed;
  else if (message.size() > max_send_size_)
    refusal = errc::message_too_large;
  if (refusal) {
    asio::post(executor_, [handler = std::move(handler), refusal] { handler(refusal); });
    return;
  }
  enqueue({std::move(message), frame_kind::message, std::move(handler)});
}

void message_stream::queue_control(std::string payload, frame_kind kind) {
  if (closed_) return;
  // A control frame of the same kind still waiting (not in flight) takes the new payload: only
  // the latest PING is answered, as RFC 6455 §5.5.3 allows. Why: a peer that sends PINGs and
  // never reads would otherwise grow the queue by everything it sends.
  const auto first_queued = queue_.begin() + (writing_ ? 1 : 0);
  const auto waiting = std::find_if(first_queued, queue_.end(), [kind](const outgoing& o) {
    return !o.handler && o.kind == kind;
  });
  if (waiting != queue_.end()) {
    waiting->payload = std::move(payload);
    return;
  }
  enqueue({std::move(payload), kind, {}});
}

void message_stream::enqueue(outgoing entry) {
  queue_.push_back(std::move(entry));
  if (!writing_) write_next();
}

void message_stream::write_next() {
  writing_ = true;
  const outgoing& front = queue_.front();
  start_write(front.payload, front.kind,
              [self = shared_from_this()](error_code ec) { self->on_written(ec); });
}

void message_stream::on_written(error_code ec) {
  outgoing done = std::move(queue_.front());
  queue_.pop_front();
  writing_ = false;
  ec = map_error(ec);
  if (ec) close();
  if (done.handler) done.handler(ec);
  // The handler may have queued (and started) another write, or closed the transport.
  if (!writing_ && !closed_ && !queue_.empty()) write_next();
}

void message_stream::async_receive(receive_handler handler) {
  error_code refusal;
  if (closed_)
    refusal = errc::transport_closed;
  else if (receiving_)
    refusal = asio::error::already_started;
  if (refusal) {
    asio::post(executor_, [handler = std::move(handler), refusal] { handler(refusal, {}); });
    return;
  }
  receiving_ = true;
  start_read([self = shared_from_this(), handler = std::move(handler)](error_code ec,
                                                                       std::string message) {
    self->receiving_ = false;
    ec = self->map_error(ec);
    if (ec) {
      self->close();
      message.clear();
    }
    handler(ec, std::move(message));
  });
}

void message_stream::close() {
  if (closed_) return;
  closed_ = true;
  // The in-flight write (if any) completes through on_written; fail only the queued ones.
  auto first_queued = queue_.begin() + (writing_ ? 1 : 0);
  for (auto it = first_queued; it != queue_.end(); ++it)
    if (it->handler)
      asio::post(executor_,
                 [handler = std::move(it->handler)] { handler(errc::transport_closed); });
  queue_.erase(first_queued, queue_.end());
  shutdown();
}

error_code message_stream::map_error(error_code ec) const {
  if (!ec) return ec;
  ec = translate(ec);
  // Our own typed errors (e.g. message_too_large) win over "closed".
  if (ec.category() == wampbox_category()) return ec;
  if (closed_ || ec == asio::error::eof) return errc::transport_closed;
  return ec;
}

}  // namespace wampbox::transport::detail
