// The reconnecting client: attempts, backoff, restoring, the queue of waiting operations.
#include "client_impl.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <type_traits>

namespace wampbox::detail {
namespace {

namespace asio = boost::asio;

/// Takes the handler out of a cell shared by two paths (the first one to run gets it).
template <typename Handler>
Handler take(std::optional<Handler>& cell) {
  Handler h(std::move(*cell));
  cell.reset();
  return h;
}

/// `e` with `context` in front of its message, keeping its error code.
std::exception_ptr explained(std::exception_ptr e, const std::string& context) {
  try {
    std::rethrow_exception(e);
  } catch (const error& x) {
    return client_error(x.code(), context + ": " + x.what());
  } catch (...) {
    return e;
  }
}

/// Calls an application's handler through a copy: the handler may replace itself, or
/// destroy the client, while it runs.
template <typename Handler, typename... Args>
void notify(const Handler& handler, const Args&... args) {
  if (!handler) return;
  auto copy = handler;
  copy(args...);
}

/// Makes a subscription or registration on a session, with its handler shared.
template <typename Entry, typename Callback>
void enrol(session& s, const Entry& e, Callback made) {
  if constexpr (std::is_same_v<typename Entry::handle_type, subscription>)
    s.async_subscribe(
        e.uri, [h = e.handler](const event& ev) { (*h)(ev); }, e.options, std::move(made));
  else
    s.async_register(
        e.uri, [h = e.handler](invocation inv, responder r) { (*h)(std::move(inv), r); }, e.options,
        std::move(made));
}

/// Ends a subscription or registration on a session.
template <typename Token>
void withdraw(session& s, const subscription& sub, Token done) {
  s.async_unsubscribe(sub, std::move(done));
}
template <typename Token>
void withdraw(session& s, const registration& reg, Token done) {
  s.async_unregister(reg, std::move(done));
}

}  // namespace

std::exception_ptr client_error(boost::system::error_code code, const std::string& what) {
  return std::make_exception_ptr(error(code, what));
}

client_impl::client_impl(executor_type executor, client_options options)
    : executor_(executor), options_(std::move(options)), backoff_timer_(executor) {}

void client_impl::set_event_error(event_error_handler handler) {
  on_event_error_ = std::move(handler);
  if (session_) session_->on_event_error(on_event_error_);
}

// ---------------------------------------------------------------- the queue

template <typename... T, typename Start>
void client_impl::submit(completion<T...> handler, Start start) {
  if (phase_ == phase::up) {
    start(*session_, std::move(handler));
    return;
  }
  const bool can_wait =
      phase_ == phase::connecting || phase_ == phase::backing_off || phase_ == phase::restoring;
  if (!can_wait || options_.queue_limit == 0 || queue_.size() >= options_.queue_limit) {
    const bool full = can_wait && options_.queue_limit > 0;
    complete_later(std::move(handler), executor_, refusal(full), T{}...);
    return;
  }
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto cell = std::make_shared<std::optional<completion<T...>>>(std::move(handler));
  waiting_operation op;
  op.id = next_id_++;
  op.since = std::chrono::steady_clock::now();
  op.start = [cell, start = std::move(start), slot](session& s) mutable {
    if (slot.is_connected()) slot.clear();  // the session's operation takes the slot over
    start(s, take(*cell));
  };
  op.fail = [cell, ex = executor_](std::exception_ptr e) {
    complete_later(take(*cell), ex, e, T{}...);
  };
  if (slot.is_connected())
    slot.assign([weak = weak_from_this(), id = op.id](asio::cancellation_type) {
      if (auto self = weak.lock()) self->stop_waiting(id, asio::error::operation_aborted);
    });
  if (options_.timeout.count() > 0) {
    op.deadline = std::make_unique<asio::steady_timer>(executor_, options_.timeout);
    op.deadline->async_wait([weak = weak_from_this(), id = op.id](boost::system::error_code ec) {
      if (ec) return;  // started or failed meanwhile: the timer went with it
      if (auto self = weak.lock()) self->stop_waiting(id, asio::error::timed_out);
    });
  }
  queue_.push_back(std::move(op));
}

std::exception_ptr client_impl::refusal(bool queue_full) const {
  switch (phase_) {
    case phase::idle:
      return client_error(errc::not_connected,
                          "not connected to a router (the client is not running)");
    case phase::stopped: return stopped_because_;
    default: break;
  }
  std::string why =
      "not connected to a router (reconnecting, attempt " + std::to_string(failures_ + 1) + ")";
  if (queue_full)
    why += " and " + std::to_string(queue_.size()) +
           " operations already wait for it (client_options::queue_limit)";
  return client_error(errc::not_connected, why);
}

void client_impl::stop_waiting(std::uint64_t id, boost::system::error_code why) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [id](const waiting_operation& op) { return op.id == id; });
  if (it == queue_.end()) return;
  auto op = std::move(*it);
  queue_.erase(it);
  if (why == asio::error::timed_out)
    op.fail(client_error(
        why, "not connected to a router within " + std::to_string(options_.timeout.count()) +
                 " ms (reconnecting, attempt " + std::to_string(failures_ + 1) + ")"));
  else
    op.fail(client_error(why, "operation canceled while waiting for a router"));
}

// ---------------------------------------------------------------- running and stopping

void client_impl::run(completion<> handler) {
  if (released_) {
    complete_later(std::move(handler), executor_,
                   client_error(errc::session_closed, "client closed"));
    return;
  }
  if (run_) {
    complete_later(std::move(handler), executor_,
                   client_error(errc::already_joined, "the client is already running"));
    return;
  }
  auto slot = asio::get_associated_cancellation_slot(handler);
  run_.emplace(std::move(handler));
  if (slot.is_connected())
    slot.assign([weak = weak_from_this()](asio::cancellation_type) {
      if (auto self = weak.lock())
        self->stop(client_error(asio::error::operation_aborted, "client run canceled"),
                   client_error(errc::session_closed, "client stopped (run canceled)"));
    });
  failures_ = 0;
  stopped_because_ = nullptr;
  attempt();
}

void client_impl::wait_connected(completion<welcome_info> handler) {
  if (phase_ == phase::up) {
    complete_later(std::move(handler), executor_, std::exception_ptr(), welcome_);
    return;
  }
  if (phase_ == phase::stopped) {
    complete_later(std::move(handler), executor_, stopped_because_, welcome_info{});
    return;
  }
  auto slot = asio::get_associated_cancellation_slot(handler);
  const auto id = next_id_++;
  connect_waiters_.emplace(id, std::move(handler));
  if (slot.is_connected())
    slot.assign([weak = weak_from_this(), id](asio::cancellation_type) {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->connect_waiters_.find(id);
      if (it == self->connect_waiters_.end()) return;
      auto waiter = std::move(it->second);
      self->connect_waiters_.erase(it);
      complete_later(std::move(waiter), self->executor_,
                     client_error(asio::error::operation_aborted, "wait canceled"), welcome_info{});
    });
}

void client_impl::leave(std::string reason, completion<> handler) {
  const auto left = client_error(errc::session_closed, "the client left the router");
  if (phase_ != phase::up) {
    stop(nullptr, left);
    complete_later(std::move(handler), executor_, std::exception_ptr());
    return;
  }
  // The session must live until GOODBYE is answered: its completion owns it.
  auto leaving = std::make_shared<session>(std::move(*session_));
  session_.reset();
  stop(nullptr, left);
  leaving->async_leave(std::move(reason), [leaving, handler = std::move(handler),
                                           ex = executor_](std::exception_ptr e) mutable {
    complete_later(std::move(handler), ex, e);
  });
}

void client_impl::release() {
  released_ = true;
  on_connect_ = nullptr;
  on_disconnect_ = nullptr;
  on_attempt_failed_ = nullptr;
  on_event_error_ = nullptr;
  const auto closed = client_error(errc::session_closed, "client closed");
  stop(closed, closed);
  // The handlers may hold what the application is about to destroy.
  subscriptions_.clear();
  registrations_.clear();
}

void client_impl::stop(std::exception_ptr run_result, std::exception_ptr pending_failure) {
  if (phase_ == phase::stopped) return;
  phase_ = phase::stopped;
  ++generation_;
  stopped_because_ = pending_failure;
  backoff_timer_.cancel();
  session_.reset();  // its pending operations complete with session_closed
  welcome_ = {};
  // Take everything first: completions and handlers may start new operations.
  auto queue = std::exchange(queue_, {});
  auto waiters = std::exchange(connect_waiters_, {});
  for (auto& op : queue) op.fail(pending_failure);
  for (auto& [id, waiter] : waiters)
    complete_later(std::move(waiter), executor_, pending_failure, welcome_info{});
  if (run_) {
    auto run = take(run_);
    complete_later(std::move(run), executor_, run_result);
  }
}

// ---------------------------------------------------------------- attempts

void client_impl::attempt() {
  phase_ = phase::connecting;
  const auto generation = ++generation_;
  auto& s = session_.emplace(executor_);
  if (options_.codec) s.set_payload_codec(options_.codec);
  if (on_event_error_) s.on_event_error(on_event_error_);
  s.set_timeout(options_.timeout);
  // Reported from inside the session's own teardown: handle it later, from the executor.
  s.on_disconnect([weak = weak_from_this(), generation, ex = executor_](std::exception_ptr e) {
    asio::post(ex, [weak, generation, e] {
      if (auto self = weak.lock()) self->on_lost(generation, e);
    });
  });
  s.async_connect(options_.routers[router_],
                  [weak = weak_from_this(), generation](std::exception_ptr e) {
                    if (auto self = weak.lock()) self->on_connected(generation, e);
                  });
}

void client_impl::on_connected(std::uint64_t generation, std::exception_ptr error) {
  if (generation != generation_) return;
  if (error) return on_failed(generation, error);
  session_->async_join(options_.join, [weak = weak_from_this(), generation](std::exception_ptr e,
                                                                            const welcome_info&) {
    if (auto self = weak.lock()) self->on_joined(generation, e);
  });
}

void client_impl::on_joined(std::uint64_t generation, std::exception_ptr error) {
  if (generation != generation_) return;
  if (error) return on_failed(generation, error);
  restore(generation);
}

void client_impl::restore(std::uint64_t generation) {
  phase_ = phase::restoring;
  restores_left_ = subscriptions_.size() + registrations_.size();
  restore_error_ = nullptr;
  if (restores_left_ == 0) return up(generation);
  restore_all(&client_impl::subscriptions_, generation);
  restore_all(&client_impl::registrations_, generation);
}

template <typename Entry>
void client_impl::restore_all(entries<Entry> which, std::uint64_t generation) {
  for (auto& [id, entry] : this->*which) {
    enrol(*session_, entry,
          [weak = weak_from_this(), which, generation, id = id, uri = entry.uri](
              std::exception_ptr e, typename Entry::handle_type made) {
            auto self = weak.lock();
            if (!self || generation != self->generation_) return;
            if (!e) {
              auto& all = (*self).*which;
              auto it = all.find(id);
              if (it != all.end()) {
                it->second.current = made;
                it->second.generation = generation;
              } else {  // ended by the application meanwhile
                withdraw(*self->session_, made, [](std::exception_ptr) {});
              }
            }
            self->on_restored(generation, e ? explained(e, "cannot restore '" + uri + "'") : e);
          });
  }
}

void client_impl::on_restored(std::uint64_t generation, std::exception_ptr error) {
  if (error && !restore_error_) restore_error_ = error;
  if (--restores_left_ > 0) return;
  if (restore_error_) return on_failed(generation, restore_error_);
  up(generation);
}

void client_impl::up(std::uint64_t generation) {
  auto keep = shared_from_this();  // the application's handler may destroy the client
  phase_ = phase::up;
  failures_ = 0;
  welcome_ = session_->welcome();
  // What waited goes first, in order, each within what is left of its deadline.
  const auto now = std::chrono::steady_clock::now();
  auto queue = std::exchange(queue_, {});
  for (auto& op : queue) {
    op.deadline.reset();
    if (options_.timeout.count() > 0) {
      const auto left =
          options_.timeout - std::chrono::ceil<std::chrono::milliseconds>(now - op.since);
      session_->set_timeout(std::max(left, std::chrono::milliseconds(1)));
    }
    op.start(*session_);
  }
  session_->set_timeout(options_.timeout);
  auto waiters = std::exchange(connect_waiters_, {});
  for (auto& [id, waiter] : waiters)
    complete_later(std::move(waiter), executor_, std::exception_ptr(), welcome_);
  if (generation == generation_) notify(on_connect_, welcome_);
}

void client_impl::on_lost(std::uint64_t generation, std::exception_ptr reason) {
  if (generation != generation_) return;
  if (phase_ == phase::restoring) return on_failed(generation, reason);
  if (phase_ != phase::up) return;  // while connecting, the connect or join reports it
  auto keep = shared_from_this();
  ++generation_;
  session_.reset();
  welcome_ = {};
  failures_ = 0;
  phase_ = phase::connecting;
  notify(on_disconnect_, reason);
  // Back at once to the same router (it may be restarting); backoff after that fails.
  if (phase_ == phase::connecting && !released_) attempt();
}

void client_impl::on_failed(std::uint64_t generation, std::exception_ptr error) {
  if (generation != generation_) return;
  auto keep = shared_from_this();
  const auto current = ++generation_;  // later reports of that session are stale
  session_.reset();
  attempt_failure failure;
  failure.error = error;
  failure.url = options_.routers[router_].url;
  failure.attempt = ++failures_;
  failure.giving_up =
      options_.backoff.max_attempts > 0 && failures_ >= options_.backoff.max_attempts;
  router_ = (router_ + 1) % options_.routers.size();
  if (!failure.giving_up) {
    failure.delay = backoff_delay(options_.backoff, failures_,
                                  std::uniform_real_distribution<double>(0.0, 1.0)(random_));
    phase_ = phase::backing_off;
    backoff_timer_.expires_after(failure.delay);
    backoff_timer_.async_wait([weak = weak_from_this(), current](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->generation_ != current) return;
      self->attempt();
    });
  }
  notify(on_attempt_failed_, failure);
  if (failure.giving_up) {
    const auto gave_up =
        client_error(errc::not_connected, "gave up after " + std::to_string(failures_) +
                                              " attempts; the last one, to " + failure.url + ": " +
                                              exception_message(error));
    stop(gave_up, gave_up);
  }
}

// ---------------------------------------------------------------- operations

void client_impl::publish(std::string topic, value args, value kwargs, publish_options options,
                          completion<std::optional<wire::id>> handler) {
  submit(std::move(handler),
         [topic = std::move(topic), args = std::move(args), kwargs = std::move(kwargs),
          options = std::move(options),
          ex = executor_](session& s, completion<std::optional<wire::id>> done) mutable {
           s.async_publish(std::move(topic), std::move(args), std::move(kwargs), std::move(options),
                           forward_to(std::move(done), ex));
         });
}

void client_impl::call(std::string procedure, value args, value kwargs, call_options options,
                       completion<call_result> handler) {
  submit(std::move(handler), [procedure = std::move(procedure), args = std::move(args),
                              kwargs = std::move(kwargs), options = std::move(options),
                              ex = executor_](session& s, completion<call_result> done) mutable {
    s.async_call(std::move(procedure), std::move(args), std::move(kwargs), std::move(options),
                 forward_to(std::move(done), ex));
  });
}

template <typename ClientHandle, typename Entry>
void client_impl::enrol_new(entries<Entry> which, Entry entry, completion<ClientHandle> done) {
  // `start` runs only inside this impl's members (now, or when the queue is flushed).
  submit(std::move(done), [self = this, which, entry = std::move(entry)](
                              session& s, completion<ClientHandle> done) {
    auto slot = asio::get_associated_cancellation_slot(done);
    auto made = [weak = self->weak_from_this(), which, entry, generation = self->generation_,
                 done = std::move(done)](std::exception_ptr e,
                                         typename Entry::handle_type handle) mutable {
      auto self = weak.lock();
      if (!self) return;  // the client is gone: the session (and `done`) went with it
      if (e) return complete_later(std::move(done), self->executor_, e, ClientHandle{});
      const auto id = self->next_id_++;
      const auto uri = entry.uri;
      entry.current = std::move(handle);
      entry.generation = generation;
      ((*self).*which).emplace(id, std::move(entry));
      complete_later(std::move(done), self->executor_, std::exception_ptr(), ClientHandle{id, uri});
    };
    enrol(s, entry, asio::bind_cancellation_slot(slot, std::move(made)));
  });
}

template <typename Entry>
void client_impl::withdraw_entry(entries<Entry> which, std::uint64_t id, completion<> done,
                                 const char* no_such_uri) {
  auto& all = this->*which;
  auto it = all.find(id);
  if (it == all.end()) {
    complete_later(std::move(done), executor_, std::make_exception_ptr(wamp_error(no_such_uri)));
    return;
  }
  auto entry = std::move(it->second);
  all.erase(it);
  if (phase_ == phase::up && entry.current && entry.generation == generation_)
    withdraw(*session_, *entry.current, forward_to(std::move(done), executor_));
  else  // nothing at a router: a restore in flight undoes itself (see restore_all)
    complete_later(std::move(done), executor_, std::exception_ptr());
}

void client_impl::subscribe(std::string topic, std::function<void(const event&)> handler,
                            subscribe_options options, completion<client_subscription> done) {
  subscription_entry entry;
  entry.uri = std::move(topic);
  entry.handler = std::make_shared<std::function<void(const event&)>>(std::move(handler));
  entry.options = std::move(options);
  enrol_new(&client_impl::subscriptions_, std::move(entry), std::move(done));
}

void client_impl::unsubscribe(client_subscription sub, completion<> done) {
  withdraw_entry(&client_impl::subscriptions_, sub.id, std::move(done),
                 "wamp.error.no_such_subscription");
}

void client_impl::enroll(std::string procedure, invocation_handler handler,
                         register_options options, completion<client_registration> done) {
  registration_entry entry;
  entry.uri = std::move(procedure);
  entry.handler = std::make_shared<invocation_handler>(std::move(handler));
  entry.options = std::move(options);
  enrol_new(&client_impl::registrations_, std::move(entry), std::move(done));
}

void client_impl::unregister(client_registration reg, completion<> done) {
  withdraw_entry(&client_impl::registrations_, reg.id, std::move(done),
                 "wamp.error.no_such_registration");
}

}  // namespace wampbox::detail
