// Test helpers for the transport layer: coroutine wrappers around the callback API, a test
// runner with a hard time limit, and listeners for in-process fake routers.
#pragma once

#include <wampbox/error.hpp>
#include <wampbox/transport/transport.hpp>

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace transport_test {

namespace asio = boost::asio;
namespace wt = wampbox::transport;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

/// Completion token giving `(error_code, results...)` tuples instead of exceptions.
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// `transport::async_receive` as an asio operation.
template <typename Token>
auto async_receive(wt::transport& t, Token&& token) {
  return asio::async_initiate<Token, void(error_code, std::string)>(
      [&t](auto handler) {
        t.async_receive(
            [h = std::make_shared<decltype(handler)>(std::move(handler))](
                error_code ec, std::string m) mutable { std::move (*h)(ec, std::move(m)); });
      },
      token);
}

/// `transport::async_send` as an asio operation.
template <typename Token>
auto async_send(wt::transport& t, std::string message, Token&& token) {
  return asio::async_initiate<Token, void(error_code)>(
      [&t](auto handler, std::string m) {
        t.async_send(std::move(m), [h = std::make_shared<decltype(handler)>(std::move(handler))](
                                       error_code ec) mutable { std::move (*h)(ec); });
      },
      token, std::move(message));
}

/// Runs `body` on a fresh io_context; fails the test unless it finishes within `limit`.
inline void run(const std::function<awaitable<void>(asio::io_context&)>& body,
                std::chrono::milliseconds limit = 10s) {
  asio::io_context ioc;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  ioc.run_for(limit);
  REQUIRE_MESSAGE(finished, "test did not finish in time");
  if (failure) std::rethrow_exception(failure);
}

/// A one-shot event: a plain callback sets it, a coroutine awaits it.
class event {
 public:
  explicit event(asio::io_context& ioc) : timer_(ioc, asio::steady_timer::time_point::max()) {}
  /// Marks the event and wakes the waiter.
  void set() {
    set_ = true;
    timer_.cancel();
  }
  /// Completes once set() ran (the test runner's time limit bounds the wait).
  awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(use_tuple);
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

/// Any accepted stream socket (TCP or Unix domain).
using server_socket = asio::generic::stream_protocol::socket;

/// A listening socket for a fake router: TCP on 127.0.0.1 with a free port, or a Unix socket
/// in a fresh temporary directory (removed again on destruction).
class listener {
 public:
  enum class kind { tcp, unix_domain };

  listener(asio::io_context& ioc, kind k) : kind_(k), tcp_(ioc), unix_(ioc) {
    if (k == kind::tcp) {
      tcp_.open(tcp::v4());
      tcp_.bind({asio::ip::make_address("127.0.0.1"), 0});
      tcp_.listen();
    } else {
      std::string dir_template =
          (std::filesystem::temp_directory_path() / "wampbox-transport-XXXXXX").string();
      REQUIRE(::mkdtemp(dir_template.data()) != nullptr);
      dir_ = dir_template;
      unix_.open();
      unix_.bind(asio::local::stream_protocol::endpoint((dir_ / "router.sock").string()));
      unix_.listen();
    }
  }
  ~listener() {
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// The TCP port (0 for Unix sockets).
  std::uint16_t port() const { return kind_ == kind::tcp ? tcp_.local_endpoint().port() : 0; }

  /// A URL for this listener: `scheme://127.0.0.1:port` + `path`, or `unix:///...`.
  std::string url(const std::string& scheme, const std::string& path = "") const {
    if (kind_ == kind::unix_domain) return "unix://" + (dir_ / "router.sock").string();
    return scheme + "://127.0.0.1:" + std::to_string(port()) + path;
  }

  /// Accepts one connection.
  awaitable<server_socket> accept() {
    if (kind_ == kind::tcp) co_return server_socket(co_await tcp_.async_accept(use_awaitable));
    co_return server_socket(co_await unix_.async_accept(use_awaitable));
  }

  /// Accepts one TCP connection as a plain TCP socket (for WebSocket servers).
  awaitable<tcp::socket> accept_tcp() { co_return co_await tcp_.async_accept(use_awaitable); }

 private:
  kind kind_;
  tcp::acceptor tcp_;
  asio::local::stream_protocol::acceptor unix_;
  std::filesystem::path dir_;
};

/// Options for connecting to `url` with a serializer (other fields default).
inline wt::transport_options options_for(
    std::string url, wampbox::wire::serializer_kind s = wampbox::wire::serializer_kind::json) {
  wt::transport_options o;
  o.url = std::move(url);
  o.serializer = s;
  return o;
}

}  // namespace transport_test
