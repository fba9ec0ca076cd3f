// The public client object: a handle on the impl, the start of every operation, the backoff.
#include "client_impl.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace wampbox {
namespace {

/// Completes an operation started on a moved-from client.
template <typename... T>
void closed(detail::completion<T...> handler, const client::executor_type& ex) {
  detail::complete_later(std::move(handler), ex,
                         detail::client_error(errc::session_closed, "client closed (moved from)"),
                         T{}...);
}

/// Refuses options the client cannot work with.
void check(const client_options& o) {
  const auto& b = o.backoff;
  if (o.routers.empty()) throw std::invalid_argument("client_options::routers is empty");
  if (b.initial_delay.count() < 0 || b.max_delay < b.initial_delay)
    throw std::invalid_argument(
        "backoff_options: need 0 <= initial_delay <= max_delay (milliseconds)");
  if (!(b.multiplier >= 1.0)) throw std::invalid_argument("backoff_options::multiplier below 1");
  if (!(b.jitter >= 0.0 && b.jitter <= 1.0))
    throw std::invalid_argument("backoff_options::jitter outside 0..1");
  if (o.timeout.count() < 0) throw std::invalid_argument("client_options::timeout is negative");
}

}  // namespace

std::chrono::milliseconds backoff_delay(const backoff_options& options, std::size_t failures,
                                        double random) {
  // In double: the exponent may be large, the cap keeps the result small.
  const double exponent = static_cast<double>(failures > 0 ? failures - 1 : 0);
  const double grown =
      static_cast<double>(options.initial_delay.count()) * std::pow(options.multiplier, exponent);
  const double capped = std::min(grown, static_cast<double>(options.max_delay.count()));
  const double r = std::clamp(random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(capped * (1.0 - options.jitter * r)));
}

client::client(executor_type executor, client_options options) : executor_(executor) {
  check(options);
  impl_ = std::make_shared<detail::client_impl>(std::move(executor), std::move(options));
}

client::~client() {
  if (impl_) impl_->release();
}

client::client(client&& other) noexcept
    : executor_(other.executor_), impl_(std::move(other.impl_)) {}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->release();
    executor_ = other.executor_;
    impl_ = std::move(other.impl_);
  }
  return *this;
}

client::executor_type client::get_executor() const { return executor_; }

void client::on_connect(std::function<void(const welcome_info&)> handler) {
  if (impl_) impl_->on_connect_ = std::move(handler);
}

void client::on_disconnect(std::function<void(std::exception_ptr)> handler) {
  if (impl_) impl_->on_disconnect_ = std::move(handler);
}

void client::on_attempt_failed(std::function<void(const attempt_failure&)> handler) {
  if (impl_) impl_->on_attempt_failed_ = std::move(handler);
}

void client::on_event_error(event_error_handler handler) {
  if (impl_) impl_->set_event_error(std::move(handler));
}

bool client::is_connected() const noexcept { return impl_ && impl_->connected(); }

const welcome_info& client::welcome() const noexcept {
  static const welcome_info none;
  return impl_ ? impl_->welcome() : none;
}

std::size_t client::waiting() const noexcept { return impl_ ? impl_->waiting() : 0; }

void client::do_run(const impl_ptr& impl, const executor_type& ex,
                    handler_of<void(std::exception_ptr)> handler) {
  impl ? impl->run(std::move(handler)) : closed(std::move(handler), ex);
}

void client::do_wait_connected(const impl_ptr& impl, const executor_type& ex,
                               handler_of<void(std::exception_ptr, welcome_info)> handler) {
  impl ? impl->wait_connected(std::move(handler)) : closed(std::move(handler), ex);
}

void client::do_leave(const impl_ptr& impl, const executor_type& ex,
                      handler_of<void(std::exception_ptr)> handler, std::string reason) {
  impl ? impl->leave(std::move(reason), std::move(handler)) : closed(std::move(handler), ex);
}

void client::do_publish(const impl_ptr& impl, const executor_type& ex,
                        handler_of<void(std::exception_ptr, std::optional<wire::id>)> handler,
                        std::string topic, value args, value kwargs, publish_options options) {
  impl ? impl->publish(std::move(topic), std::move(args), std::move(kwargs), std::move(options),
                       std::move(handler))
       : closed(std::move(handler), ex);
}

void client::do_call(const impl_ptr& impl, const executor_type& ex,
                     handler_of<void(std::exception_ptr, call_result)> handler,
                     std::string procedure, value args, value kwargs, call_options options) {
  impl ? impl->call(std::move(procedure), std::move(args), std::move(kwargs), std::move(options),
                    std::move(handler))
       : closed(std::move(handler), ex);
}

void client::do_subscribe(const impl_ptr& impl, const executor_type& ex,
                          handler_of<void(std::exception_ptr, client_subscription)> handler,
                          std::string topic, std::function<void(const event&)> event_handler,
                          subscribe_options options) {
  impl ? impl->subscribe(std::move(topic), std::move(event_handler), std::move(options),
                         std::move(handler))
       : closed(std::move(handler), ex);
}

void client::do_unsubscribe(const impl_ptr& impl, const executor_type& ex,
                            handler_of<void(std::exception_ptr)> handler, client_subscription sub) {
  impl ? impl->unsubscribe(std::move(sub), std::move(handler)) : closed(std::move(handler), ex);
}

void client::do_register(const impl_ptr& impl, const executor_type& ex,
                         handler_of<void(std::exception_ptr, client_registration)> handler,
                         std::string procedure, invocation_handler invocation,
                         register_options options) {
  impl ? impl->enroll(std::move(procedure), std::move(invocation), std::move(options),
                      std::move(handler))
       : closed(std::move(handler), ex);
}

void client::do_unregister(const impl_ptr& impl, const executor_type& ex,
                           handler_of<void(std::exception_ptr)> handler, client_registration reg) {
  impl ? impl->unregister(std::move(reg), std::move(handler)) : closed(std::move(handler), ex);
}

}  // namespace wampbox
