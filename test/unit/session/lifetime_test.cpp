// Session lifetimes: deferred operations and moves, destruction with operations pending
// (connect, join, calls, publications, subscriptions), and a responder used from other threads.
#include "scripted_transport.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>

using namespace wampbox;
using namespace wampbox::test;
using namespace std::chrono_literals;

TEST_CASE("deferred operation follows a moved session; a moved-from session refuses") {
  fixture f;
  f.join();
  auto op = f.s.async_call("com.example.p", value::array({1}), nullptr, {}, asio::deferred);
  session moved(std::move(*f.held));
  std::exception_ptr error;
  call_result result;
  std::move(op)([&](std::exception_ptr e, call_result r) {
    error = e;
    result = std::move(r);
  });
  f.settle();
  REQUIRE(f.last()[0] == 48);
  f.router->push(value::array({50, f.last()[1], value::object(), value::array({2})}));
  f.settle();
  CHECK_FALSE(error);
  CHECK(result.args == value::array({2}));
  CHECK(moved.is_joined());

  // The moved-from session completes everything with session_closed, deferred or not.
  std::exception_ptr refused;
  f.held->async_publish("com.example.t", nullptr, nullptr, {},
                        [&](std::exception_ptr e, std::optional<wire::id>) { refused = e; });
  auto later = f.held->async_call("com.example.p", nullptr, nullptr, {}, asio::deferred);
  std::exception_ptr refused_later;
  std::move(later)([&](std::exception_ptr e, call_result) { refused_later = e; });
  f.settle();
  CHECK(code_of(refused) == errc::session_closed);
  CHECK(code_of(refused_later) == errc::session_closed);
  CHECK_FALSE(f.held->is_joined());
}

TEST_CASE("a deferred operation launched after the session was destroyed completes closed") {
  fixture f;
  f.join();
  auto op = f.s.async_call("com.example.p", nullptr, nullptr, {}, asio::deferred);
  f.held.reset();
  std::exception_ptr error;
  std::move(op)([&](std::exception_ptr e, call_result) { error = e; });
  f.settle();
  CHECK(code_of(error) == errc::session_closed);
  CHECK(f.router->closed);
}

TEST_CASE("destroying a session completes pending calls, publications, subscriptions") {
  fixture f;
  f.join();
  std::vector<boost::system::error_code> outcomes;
  auto note = [&](std::exception_ptr e, auto&&...) { outcomes.push_back(code_of(e)); };
  publish_options ack;
  ack.acknowledge = true;
  f.s.async_call("com.example.p", nullptr, nullptr, {}, note);
  f.s.async_publish("com.example.t", nullptr, nullptr, ack, note);
  f.s.async_subscribe(
      "com.example.t", [](const event&) {}, {}, note);
  f.s.async_register(
      "com.example.r", [](invocation, responder) {}, {}, note);
  f.settle();
  CHECK(outcomes.empty());
  f.held.reset();
  f.settle();
  CHECK(outcomes == std::vector<boost::system::error_code>(4, errc::session_closed));
  CHECK(f.router->closed);
}

TEST_CASE("destroying a session during join completes the join with session_closed") {
  fixture f;
  f.s.attach(f.router);
  std::exception_ptr error;
  bool done = false;
  f.s.async_join(join_options{}, [&](std::exception_ptr e, welcome_info) {
    done = true;
    error = e;
  });
  f.settle();
  CHECK_FALSE(done);
  f.held.reset();
  f.settle();
  REQUIRE(done);
  CHECK(code_of(error) == errc::session_closed);
  CHECK(f.router->closed);
}

namespace {

/// A TCP listener that accepts one connection and then never answers (no RawSocket handshake).
struct silent_listener {
  explicit silent_listener(asio::io_context& io)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}), peer(io) {
    acceptor.async_accept(peer, [this](boost::system::error_code ec) { accepted = !ec; });
  }
  std::string url() const {
    return "rs://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }
  /// True once the client closed its end (a read gives EOF).
  bool client_closed(asio::io_context& io) {
    std::array<char, 16> buf;
    boost::system::error_code result;
    bool finished = false;
    asio::async_read(peer, asio::buffer(buf), [&](boost::system::error_code ec, std::size_t) {
      result = ec;
      finished = true;
    });
    for (int i = 0; i < 200 && !finished; ++i) {
      io.restart();
      io.run_for(10ms);
    }
    return finished && result == asio::error::eof;
  }
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket peer;
  bool accepted = false;
};

void run_until(asio::io_context& io, const std::function<bool()>& done) {
  for (int i = 0; i < 300 && !done(); ++i) {
    io.restart();
    io.run_for(10ms);
  }
}

}  // namespace

TEST_CASE("destroying a session during connect closes the half-made connection") {
  asio::io_context io;
  silent_listener router(io);
  std::optional<session> s(std::in_place, io.get_executor());
  std::exception_ptr error;
  bool done = false;
  s->async_connect(transport::transport_options(router.url(), wire::serializer_kind::json),
                   [&](std::exception_ptr e) {
                     done = true;
                     error = e;
                   });
  run_until(io, [&] { return router.accepted; });
  REQUIRE(router.accepted);
  CHECK_FALSE(done);
  s.reset();
  run_until(io, [&] { return done; });
  REQUIRE(done);
  CHECK(code_of(error) == errc::session_closed);
  CHECK(router.client_closed(io));
}

TEST_CASE("responder answers from a thread pool are sent on the session's executor") {
  fixture f;
  f.join();
  asio::thread_pool pool(4);
  f.register_procedure("com.example.slow", [&pool](invocation inv, responder r) {
    asio::post(pool, [inv = std::move(inv), r]() mutable {
      auto n = inv.args[0].get<int>();
      for (int i = 0; i < 3; ++i) r.progress(call_result{value::array({i})});
      r.yield(call_result{value::array({n * 2})});
    });
  });
  constexpr int calls = 50;
  for (int i = 1; i <= calls; ++i)
    f.router->push(value::array({68, i, 777, {{"receive_progress", true}}, value::array({i})}));
  auto yields = [&] {
    int n = 0;
    for (const auto& m : f.router->sent)
      if (m[0] == 70 && !m[2].contains("progress")) ++n;
    return n;
  };
  // Keeps the io_context running while the pool answers.
  auto guard = asio::make_work_guard(f.io);
  f.run_until([&] { return yields() == calls; });
  pool.join();
  f.settle();
  CHECK(yields() == calls);
  for (const auto& m : f.router->sent)
    if (m[0] == 70 && !m[2].contains("progress")) CHECK(m[3][0] == 2 * m[1].get<int>());
}
