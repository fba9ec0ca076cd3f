// The reconnecting client without a router: the backoff schedule, refused options, and what
// happens to operations while no router answers (a loopback port where nothing listens):
// prompt refusal, the bounded queue, cancellation and deadlines of waiting operations, and
// destroying the client while it waits between attempts.
#include "session/scripted_transport.hpp"  // code_of

#include <wampbox/client/client.hpp>

#include <doctest/doctest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

using namespace wampbox;
using wampbox::test::code_of;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// A RawSocket URL on a loopback port where nothing listens.
std::string refused_url() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return "rs://127.0.0.1:" + std::to_string(a.local_endpoint().port());
}

/// Options for a router that refuses, waiting `delay` after each failed attempt.
client_options refusing(std::chrono::milliseconds delay, std::size_t queue_limit = 0) {
  client_options o;
  o.routers.emplace_back(refused_url(), wire::serializer_kind::json);
  o.backoff.initial_delay = delay;
  o.backoff.max_delay = delay;
  o.queue_limit = queue_limit;
  return o;
}

/// The outcome of one publication.
struct outcome {
  bool done = false;
  std::exception_ptr error;
  auto handler() {
    return [this](std::exception_ptr e, std::optional<wire::id>) {
      done = true;
      error = e;
    };
  }
};

/// Runs the io_context until the client's first attempt failed (it then waits `delay`).
void until_first_failure(asio::io_context& io, client& c) {
  bool failed = false;
  c.on_attempt_failed([&](const attempt_failure&) { failed = true; });
  while (!failed && io.run_one_for(10s) > 0) {
  }
  REQUIRE(failed);
  c.on_attempt_failed(nullptr);
}

}  // namespace

TEST_CASE("backoff_delay grows by the multiplier, stops at max_delay, jitter only shortens") {
  backoff_options b;
  b.initial_delay = 100ms;
  b.max_delay = 1000ms;
  b.multiplier = 2.0;
  b.jitter = 0.5;
  CHECK(backoff_delay(b, 1, 0.0) == 100ms);
  CHECK(backoff_delay(b, 2, 0.0) == 200ms);
  CHECK(backoff_delay(b, 4, 0.0) == 800ms);
  CHECK(backoff_delay(b, 5, 0.0) == 1000ms);    // capped
  CHECK(backoff_delay(b, 500, 0.0) == 1000ms);  // no overflow however many failures
  CHECK(backoff_delay(b, 1, 0.999) == 50ms);    // at most half of it is random
  CHECK(backoff_delay(b, 3, 0.5) == 300ms);
  b.jitter = 0.0;
  CHECK(backoff_delay(b, 3, 0.7) == 400ms);
  b.jitter = 1.0;
  CHECK(backoff_delay(b, 3, 0.75) == 100ms);
}

TEST_CASE("options that cannot work are refused when the client is made") {
  asio::io_context io;
  auto good = refusing(10ms);
  auto refused = [&](client_options o) {
    CHECK_THROWS_AS(client(io.get_executor(), std::move(o)), std::invalid_argument);
  };
  auto o = good;
  o.routers.clear();
  refused(o);
  o = good;
  o.backoff.max_delay = 1ms;  // below initial_delay
  refused(o);
  o = good;
  o.backoff.multiplier = 0.5;
  refused(o);
  o = good;
  o.backoff.jitter = 1.5;
  refused(o);
  o = good;
  o.timeout = -1ms;
  refused(o);
  CHECK_NOTHROW(client(io.get_executor(), good));
}

TEST_CASE("a client not running, or moved from, refuses operations at once") {
  asio::io_context io;
  client c(io.get_executor(), refusing(10ms, 4));
  outcome idle;
  c.async_publish("com.example.t", nullptr, nullptr, {}, idle.handler());
  client moved(std::move(c));
  outcome gone;
  c.async_publish("com.example.t", nullptr, nullptr, {}, gone.handler());
  io.run();
  REQUIRE(idle.done);
  CHECK(code_of(idle.error) == make_error_code(errc::not_connected));
  CHECK(exception_message(idle.error).find("not running") != std::string::npos);
  REQUIRE(gone.done);
  CHECK(code_of(gone.error) == make_error_code(errc::session_closed));
}

TEST_CASE("while reconnecting: refused at once without a queue, with the attempt number") {
  asio::io_context io;
  client c(io.get_executor(), refusing(60s));
  c.async_run([](std::exception_ptr) {});
  until_first_failure(io, c);
  outcome o;
  c.async_publish("com.example.t", nullptr, nullptr, {}, o.handler());
  io.poll();
  REQUIRE(o.done);
  CHECK(code_of(o.error) == make_error_code(errc::not_connected));
  CHECK(exception_message(o.error).find("not connected to a router (reconnecting, attempt 2)") !=
        std::string::npos);
}

TEST_CASE("the queue is bounded: an operation beyond the limit is refused at once") {
  asio::io_context io;
  client c(io.get_executor(), refusing(60s, 1));
  c.async_run([](std::exception_ptr) {});
  until_first_failure(io, c);
  outcome first, second;
  c.async_publish("com.example.t", nullptr, nullptr, {}, first.handler());
  c.async_publish("com.example.t", nullptr, nullptr, {}, second.handler());
  io.poll();
  CHECK_FALSE(first.done);
  REQUIRE(second.done);
  CHECK(code_of(second.error) == make_error_code(errc::not_connected));
  CHECK(exception_message(second.error).find("queue_limit") != std::string::npos);
  CHECK(c.waiting() == 1);
}

TEST_CASE("a waiting operation honours cancellation and its deadline") {
  asio::io_context io;
  auto opts = refusing(60s, 4);
  opts.timeout = 50ms;
  client c(io.get_executor(), opts);
  c.async_run([](std::exception_ptr) {});
  until_first_failure(io, c);

  asio::cancellation_signal cancel;
  outcome canceled;
  c.async_publish("com.example.t", nullptr, nullptr, {},
                  asio::bind_cancellation_slot(cancel.slot(), canceled.handler()));
  bool call_done = false;
  std::exception_ptr call_error;
  c.async_call("com.example.p", nullptr, nullptr, {}, [&](std::exception_ptr e, call_result) {
    call_done = true;
    call_error = e;
  });
  io.poll();
  CHECK(c.waiting() == 2);
  cancel.emit(asio::cancellation_type::terminal);
  io.poll();
  REQUIRE(canceled.done);
  CHECK(code_of(canceled.error) == asio::error::operation_aborted);
  CHECK(c.waiting() == 1);
  while (!call_done && io.run_one_for(10s) > 0) {
  }
  REQUIRE(call_done);
  CHECK(code_of(call_error) == asio::error::timed_out);
  CHECK(exception_message(call_error).find("within 50 ms") != std::string::npos);
  CHECK(c.waiting() == 0);
}

TEST_CASE("destroying the client while it waits to reconnect completes everything at once") {
  asio::io_context io;
  auto c = std::make_unique<client>(io.get_executor(), refusing(60s, 4));
  bool run_done = false;
  std::exception_ptr run_error;
  c->async_run([&](std::exception_ptr e) {
    run_done = true;
    run_error = e;
  });
  bool connected_done = false;
  c->async_wait_connected([&](std::exception_ptr, welcome_info) { connected_done = true; });
  until_first_failure(io, *c);
  outcome waiting;
  c->async_publish("com.example.t", nullptr, nullptr, {}, waiting.handler());
  bool told = false;
  c->on_disconnect([&](std::exception_ptr) { told = true; });
  io.poll();
  CHECK(c->waiting() == 1);
  c.reset();
  // Nothing is left to wait for: not the 60 s backoff timer, not the queue.
  const auto start = std::chrono::steady_clock::now();
  io.run();
  CHECK(std::chrono::steady_clock::now() - start < 30s);
  REQUIRE(run_done);
  CHECK(code_of(run_error) == make_error_code(errc::session_closed));
  REQUIRE(waiting.done);
  CHECK(code_of(waiting.error) == make_error_code(errc::session_closed));
  CHECK(connected_done);
  CHECK_FALSE(told);
}

TEST_CASE("cancelling async_run stops the client; it may run again") {
  asio::io_context io;
  client c(io.get_executor(), refusing(60s, 4));
  asio::cancellation_signal cancel;
  std::exception_ptr run_error;
  bool run_done = false;
  c.async_run(asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
    run_done = true;
    run_error = e;
  }));
  until_first_failure(io, c);
  outcome waiting;
  c.async_publish("com.example.t", nullptr, nullptr, {}, waiting.handler());
  io.poll();
  cancel.emit(asio::cancellation_type::terminal);
  io.poll();
  REQUIRE(run_done);
  CHECK(code_of(run_error) == asio::error::operation_aborted);
  REQUIRE(waiting.done);
  CHECK(code_of(waiting.error) == make_error_code(errc::session_closed));
  bool again = false;
  io.restart();  // it ran out of work: the client had stopped
  c.async_run([&](std::exception_ptr) { again = true; });
  until_first_failure(io, c);
  CHECK_FALSE(again);  // running again: waiting for its next attempt
}
