#include "message_stream.hpp"

#include <wampbox/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace wampbox::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

message_stream::message_stream(asio::any_io_executor executor, wire::serializer_kind serializer,
                               std::size_t max_send_size, link_settings link)
    : executor_(std::move(executor)),
      serializer_(serializer),
      max_send_size_(max_send_size),
      link_(std::move(link)),
      keepalive_timer_(executor_) {}

void message_stream::async_send(std::string message, send_handler handler) {
  // Immediate failures are posted so that handlers never run inside the initiating call.
  error_code refusal;
  if (closed_)
    refusal = close_reason_;
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
    refusal = close_reason_;
  else if (receiving_)
    refusal = asio::error::already_started;
  if (refusal) {
    asio::post(executor_, [handler = std::move(handler), refusal] { handler(refusal, {}); });
    return;
  }
  receiving_ = true;
  if (!keepalive_started_ && link_.keepalive_interval.count() > 0) {
    keepalive_started_ = true;
    last_received_ = clock::now();
    keepalive_wait(last_received_ + link_.keepalive_interval);
  }
  start_read([self = shared_from_this(), handler = std::move(handler)](error_code ec,
                                                                       std::string message) {
    self->receiving_ = false;
    ec = self->map_error(ec);
    if (ec) {
      self->close();
      message.clear();
    } else {
      self->frame_received();
    }
    handler(ec, std::move(message));
  });
}

void message_stream::close() { close_for(errc::transport_closed, true); }

void message_stream::close_for(error_code reason, bool graceful) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  keepalive_timer_.cancel();
  // The in-flight write (if any) completes through on_written; fail only the queued ones.
  auto first_queued = queue_.begin() + (writing_ ? 1 : 0);
  for (auto it = first_queued; it != queue_.end(); ++it)
    if (it->handler)
      asio::post(executor_, [handler = std::move(it->handler), reason] { handler(reason); });
  queue_.erase(first_queued, queue_.end());
  shutdown(graceful);
}

error_code message_stream::map_error(error_code ec) const {
  if (!ec) return ec;
  // Why the transport was failed (keep-alive) wins over what the shutdown caused.
  if (closed_ && close_reason_ != errc::transport_closed) return close_reason_;
  ec = translate(ec);
  // Our own typed errors (e.g. message_too_large) win over "closed".
  if (ec.category() == wampbox_category()) return ec;
  if (closed_ || ec == asio::error::eof) return errc::transport_closed;
  return ec;
}

void message_stream::keepalive_wait(clock::time_point until) {
  keepalive_timer_.expires_at(until);
  // Weak: a transport nobody uses any more must not be kept alive by its keep-alive.
  keepalive_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->keepalive_check();
  });
}

void message_stream::keepalive_check() {
  if (closed_) return;
  const auto now = clock::now();
  const bool awaiting_answer =
      ping_sent_ != clock::time_point::min() && last_received_ < ping_sent_;
  if (awaiting_answer) {
    const auto due = ping_sent_ + link_.keepalive_timeout;
    if (now < due) return keepalive_wait(due);
    if (receiving_) return close_for(errc::keepalive_timeout, false);
    // Nobody reads, so the answer cannot have been seen: start over once a receive is pending.
  }
  ping_sent_ = clock::time_point::min();
  const auto ping_due = last_received_ + link_.keepalive_interval;
  if (now < ping_due) return keepalive_wait(ping_due);
  if (!receiving_) return keepalive_wait(now + link_.keepalive_interval);
  ping_sent_ = now;
  queue_control({}, frame_kind::ping);
  keepalive_wait(now + link_.keepalive_timeout);
}

}  // namespace wampbox::transport::detail
