// The public session object: a handle on the impl, and the start of every operation.
#include "session_impl.hpp"

#include <boost/asio/error.hpp>

namespace wampbox {
namespace {

using detail::operation_ref;

/// Completes an operation started on a moved-from session.
template <typename... T>
operation_ref closed(const detail::shared_completion<void(std::exception_ptr, T...)>& cb) {
  cb(detail::make_error(errc::session_closed, "session closed (moved from)"), T{}...);
  return {};
}

}  // namespace

void session::cancel_on(boost::asio::cancellation_slot slot, const impl_ptr& impl,
                        operation_ref op) {
  slot.assign([weak = std::weak_ptr(impl), op](boost::asio::cancellation_type) {
    if (auto self = weak.lock()) self->cancel(op, boost::asio::error::operation_aborted);
  });
}

void session::end_handle(detail::session_impl& s, const subscription& sub) noexcept {
  detail::undo(s, sub);
}

void session::end_handle(detail::session_impl& s, const registration& reg) noexcept {
  detail::undo(s, reg);
}

session::session(executor_type executor)
    : executor_(executor), impl_(std::make_shared<detail::session_impl>(std::move(executor))) {}

session::~session() {
  if (impl_) impl_->release();
}

session::session(session&& other) noexcept
    : executor_(other.executor_), impl_(std::move(other.impl_)) {}

session& session::operator=(session&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->release();
    executor_ = other.executor_;
    impl_ = std::move(other.impl_);
  }
  return *this;
}

session::executor_type session::get_executor() const { return executor_; }

void session::set_payload_codec(std::shared_ptr<codec::payload_codec> codec) {
  if (impl_) impl_->codec_ = codec ? std::move(codec) : detail::identity_codec();
}

void session::on_event_error(event_error_handler handler) {
  if (impl_) impl_->event_error_ = std::move(handler);
}

void session::on_disconnect(disconnect_handler handler) {
  if (impl_) impl_->disconnect_ = std::move(handler);
}

void session::set_timeout(std::chrono::milliseconds timeout) {
  if (impl_) impl_->timeout_ = timeout;
}

bool session::is_joined() const noexcept {
  return impl_ && impl_->state_ == detail::session_impl::state::joined;
}

const welcome_info& session::welcome() const noexcept {
  static const welcome_info none;
  return impl_ ? impl_->welcome_ : none;
}

void session::attach(std::shared_ptr<transport::transport> connected) {
  if (!impl_) throw error(errc::session_closed, "session closed (moved from)");
  if (impl_->state_ != detail::session_impl::state::closed)
    throw error(errc::already_joined, "session already has a transport");
  impl_->attach(std::move(connected));
}

operation_ref session::do_connect(const impl_ptr& impl,
                                  detail::shared_completion<void(std::exception_ptr)> cb,
                                  transport::transport_options options) {
  return impl ? impl->connect(std::move(options), std::move(cb)) : closed(cb);
}

operation_ref session::do_join(const impl_ptr& impl,
                               detail::shared_completion<void(std::exception_ptr, welcome_info)> cb,
                               join_options options) {
  return impl ? impl->join(std::move(options), std::move(cb)) : closed(cb);
}

operation_ref session::do_leave(const impl_ptr& impl,
                                detail::shared_completion<void(std::exception_ptr)> cb,
                                std::string reason) {
  return impl ? impl->leave(std::move(reason), std::move(cb)) : closed(cb);
}

operation_ref session::do_publish(
    const impl_ptr& impl,
    detail::shared_completion<void(std::exception_ptr, std::optional<wire::id>)> cb,
    std::string topic, value args, value kwargs, publish_options options) {
  return impl ? impl->publish(std::move(topic), std::move(args), std::move(kwargs),
                              std::move(options), std::move(cb))
              : closed(cb);
}

operation_ref session::do_subscribe(
    const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, subscription)> cb,
    std::string topic, std::function<void(const event&)> handler, subscribe_options options) {
  return impl ? impl->subscribe(std::move(topic), std::move(handler), std::move(options),
                                std::move(cb))
              : closed(cb);
}

operation_ref session::do_unsubscribe(const impl_ptr& impl,
                                      detail::shared_completion<void(std::exception_ptr)> cb,
                                      subscription sub) {
  return impl ? impl->unsubscribe(std::move(sub), std::move(cb)) : closed(cb);
}

operation_ref session::do_call(const impl_ptr& impl,
                               detail::shared_completion<void(std::exception_ptr, call_result)> cb,
                               std::string procedure, value args, value kwargs,
                               call_options options) {
  return impl ? impl->call(std::move(procedure), std::move(args), std::move(kwargs),
                           std::move(options), std::move(cb))
              : closed(cb);
}

operation_ref session::do_register(
    const impl_ptr& impl, detail::shared_completion<void(std::exception_ptr, registration)> cb,
    std::string procedure, invocation_handler handler, register_options options) {
  return impl ? impl->enroll(std::move(procedure), std::move(handler), std::move(options),
                             std::move(cb))
              : closed(cb);
}

operation_ref session::do_unregister(const impl_ptr& impl,
                                     detail::shared_completion<void(std::exception_ptr)> cb,
                                     registration reg) {
  return impl ? impl->unregister(std::move(reg), std::move(cb)) : closed(cb);
}

}  // namespace wampbox
