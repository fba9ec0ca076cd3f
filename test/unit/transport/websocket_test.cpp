// WebSocket transport against in-process fake routers written with Boost.Beast.
#include "transport_test_support.hpp"

// See lib/transport/websocket.hpp: GCC 12 false positive inside Beast's HTTP parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#pragma GCC diagnostic pop

#include <limits>
#include <tuple>
#include <vector>

using namespace transport_test;
using wampbox::errc;
using wampbox::wire::serializer_kind;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

using server_ws = websocket::stream<beast::tcp_stream>;
using request = http::request<http::string_body>;

/// Accepts one WebSocket client; answers with subprotocol `answer` (none when empty) and
/// stores the client's upgrade request in `req`.
awaitable<std::unique_ptr<server_ws>> ws_accept(listener& l, std::string answer, request& req) {
  auto ws = std::make_unique<server_ws>(co_await l.accept_tcp());
  beast::flat_buffer buffer;
  co_await http::async_read(ws->next_layer(), buffer, req, use_awaitable);
  ws->set_option(websocket::stream_base::decorator([answer](websocket::response_type& res) {
    if (!answer.empty()) res.set(http::field::sec_websocket_protocol, answer);
  }));
  co_await ws->async_accept(req, use_awaitable);
  co_return ws;
}

/// Reads until the client's close frame arrives; returns the close code it sent.
awaitable<std::uint16_t> expect_close(server_ws& ws) {
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
  CHECK(ec == websocket::error::closed);
  co_return ws.reason().code;
}

/// Connects over WebSocket to `url`.
awaitable<std::tuple<error_code, std::shared_ptr<wt::transport>>> connect(asio::io_context& ioc,
                                                                          wt::transport_options o) {
  co_return co_await wt::async_connect(ioc.get_executor(), std::move(o), use_tuple);
}

const std::string big_message(70 * 1024, 'w');

}  // namespace

TEST_CASE("websocket: subprotocol, Host, target and frame type for every serializer") {
  for (auto s : {serializer_kind::json, serializer_kind::msgpack, serializer_kind::cbor}) {
    CAPTURE(static_cast<int>(s));
    run([&](asio::io_context& ioc) -> awaitable<void> {
      listener l(ioc, listener::kind::tcp);
      const std::vector<std::string> messages{"", "x", big_message, "[1]"};
      const std::string subprotocol(wampbox::wire::websocket_subprotocol(s));

      auto server = [&]() -> awaitable<void> {
        request req;
        auto ws = co_await ws_accept(l, subprotocol, req);
        CHECK(req[http::field::sec_websocket_protocol] == subprotocol);
        CHECK(req[http::field::host] == "127.0.0.1:" + std::to_string(l.port()));
        CHECK(req.target() == "/ws/path?x=1");
        for (const auto& expected : messages) {
          beast::flat_buffer buffer;
          co_await ws->async_read(buffer, use_awaitable);
          CHECK(ws->got_text() == wampbox::wire::is_text(s));
          CHECK(beast::buffers_to_string(buffer.data()) == expected);
          ws->text(ws->got_text());
          co_await ws->async_write(buffer.data(), use_awaitable);
        }
        CHECK(co_await expect_close(*ws) == websocket::close_code::normal);
      };
      auto client = [&]() -> awaitable<void> {
        auto [ec, t] = co_await connect(ioc, options_for(l.url("ws", "/ws/path?x=1"), s));
        REQUIRE_MESSAGE(!ec, ec.message());
        CHECK(t->serializer() == s);
        CHECK(t->max_send_size() == std::numeric_limits<std::size_t>::max());
        for (const auto& m : messages) {
          auto [send_ec] = co_await async_send(*t, m, use_tuple);
          CHECK(!send_ec);
          auto [receive_ec, echo] = co_await async_receive(*t, use_tuple);
          CHECK_MESSAGE(!receive_ec, receive_ec.message());
          CHECK(echo == m);
        }
        t->close();
      };
      co_await (server() && client());
    });
  }
}

TEST_CASE("websocket: default target is /") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      request req;
      auto ws = co_await ws_accept(l, "wamp.2.json", req);
      CHECK(req.target() == "/");
    };
    auto client = [&]() -> awaitable<void> {
      auto [ec, t] = co_await connect(ioc, options_for(l.url("ws")));
      CHECK(!ec);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: router choosing no or another subprotocol -> serializer_unsupported") {
  for (std::string answer : {"", "wamp.2.cbor", "wamp.2.json.batched"}) {
    CAPTURE(answer);
    run([&](asio::io_context& ioc) -> awaitable<void> {
      listener l(ioc, listener::kind::tcp);
      auto server = [&]() -> awaitable<void> {
        request req;
        auto ws = co_await ws_accept(l, answer, req);
      };
      auto client = [&]() -> awaitable<void> {
        auto [ec, t] = co_await connect(ioc, options_for(l.url("ws")));
        CHECK(ec == errc::serializer_unsupported);
        CHECK(t == nullptr);
      };
      co_await (server() && client());
    });
  }
}

TEST_CASE("websocket: router declining the upgrade -> handshake_failed") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      beast::tcp_stream stream(co_await l.accept_tcp());
      beast::flat_buffer buffer;
      request req;
      co_await http::async_read(stream, buffer, req, use_awaitable);
      http::response<http::string_body> res(http::status::not_found, 11);
      res.body() = "no WAMP here";
      res.prepare_payload();
      co_await http::async_write(stream, res, use_awaitable);
    };
    auto client = [&]() -> awaitable<void> {
      auto [ec, t] = co_await connect(ioc, options_for(l.url("ws")));
      CHECK(ec == errc::handshake_failed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: read limit enforced -> message_too_large") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      request req;
      auto ws = co_await ws_accept(l, "wamp.2.msgpack", req);
      ws->binary(true);
      co_await ws->async_write(asio::buffer(std::string(1000, 'a')), use_awaitable);
      co_await ws->async_write(asio::buffer(std::string(1001, 'b')), use_awaitable);
      CHECK(co_await expect_close(*ws) == websocket::close_code::too_big);
    };
    auto client = [&]() -> awaitable<void> {
      auto o = options_for(l.url("ws"), serializer_kind::msgpack);
      o.max_message_size = 1000;
      auto [ec, t] = co_await connect(ioc, o);
      REQUIRE(!ec);
      auto [ec1, m1] = co_await async_receive(*t, use_tuple);
      CHECK(!ec1);
      CHECK(m1.size() == 1000);
      auto [ec2, m2] = co_await async_receive(*t, use_tuple);
      CHECK(ec2 == errc::message_too_large);
      auto [ec3] = co_await async_send(*t, "x", use_tuple);
      CHECK(ec3 == errc::transport_closed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: close while a receive is pending -> transport_closed") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      request req;
      auto ws = co_await ws_accept(l, "wamp.2.json", req);
      CHECK(co_await expect_close(*ws) == websocket::close_code::normal);
    };
    auto client = [&]() -> awaitable<void> {
      auto [ec, t] = co_await connect(ioc, options_for(l.url("ws")));
      REQUIRE(!ec);
      asio::steady_timer later(ioc, 20ms);
      later.async_wait([t](error_code) { t->close(); });
      auto [ec1, m1] = co_await async_receive(*t, use_tuple);
      CHECK(ec1 == errc::transport_closed);
      auto [ec2] = co_await async_send(*t, "x", use_tuple);
      CHECK(ec2 == errc::transport_closed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: closing handshake is bounded when the router never answers") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    std::unique_ptr<server_ws> silent;  // accepted, then never read again
    auto server = [&]() -> awaitable<void> {
      request req;
      silent = co_await ws_accept(l, "wamp.2.json", req);
    };
    auto client = [&]() -> awaitable<void> {
      auto o = options_for(l.url("ws"));
      o.handshake_timeout = 200ms;
      auto [ec, t] = co_await connect(ioc, o);
      REQUIRE(!ec);
      event received(ioc);
      t->async_receive([&](error_code ec1, std::string) {
        CHECK(ec1 == errc::transport_closed);
        received.set();
      });
      const auto start = std::chrono::steady_clock::now();
      t->close();
      co_await received.wait();
      CHECK(std::chrono::steady_clock::now() - start < 2s);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: router closing the session -> transport_closed") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      request req;
      auto ws = co_await ws_accept(l, "wamp.2.json", req);
      co_await ws->async_close(websocket::close_code::going_away, use_awaitable);
    };
    auto client = [&]() -> awaitable<void> {
      auto [ec, t] = co_await connect(ioc, options_for(l.url("ws")));
      REQUIRE(!ec);
      auto [ec1, m1] = co_await async_receive(*t, use_tuple);
      CHECK(ec1 == errc::transport_closed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("websocket: keep-alive pings when idle; a router that stops answering fails it") {
  run(
      [](asio::io_context& ioc) -> awaitable<void> {
        listener l(ioc, listener::kind::tcp);
        auto o = options_for(l.url("ws"), serializer_kind::json);
        o.keepalive_interval = 100ms;
        o.keepalive_timeout = 200ms;
        auto server = [&]() -> awaitable<void> {
          request req;
          auto ws = co_await ws_accept(l, "wamp.2.json", req);
          int pings = 0;
          ws->control_callback([&](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::ping) ++pings;
          });
          // While reading, Beast answers pings; the client's "stop" ends that.
          beast::flat_buffer buffer;
          co_await ws->async_read(buffer, use_awaitable);
          CHECK(pings >= 2);
          asio::steady_timer frozen(ioc, 2s);  // no more reading: pings go unanswered
          co_await frozen.async_wait(use_awaitable);
        };
        auto client = [&]() -> awaitable<void> {
          auto [ec, t] = co_await connect(ioc, o);
          REQUIRE(!ec);
          error_code received;
          bool done = false;
          event ended(ioc);
          t->async_receive([&](error_code e, std::string) {
            received = e;
            done = true;
            ended.set();
          });
          asio::steady_timer answered(ioc, 600ms);
          co_await answered.async_wait(use_awaitable);
          CHECK_FALSE(done);  // the pings were answered
          const auto stopped = std::chrono::steady_clock::now();
          auto [send_ec] = co_await async_send(*t, "stop", use_tuple);
          CHECK(!send_ec);
          co_await ended.wait();
          const auto waited = std::chrono::steady_clock::now() - stopped;
          CHECK(received == errc::keepalive_timeout);
          CHECK(waited < o.keepalive_interval + o.keepalive_timeout + 1s);
        };
        co_await (server() && client());
      },
      20s);
}
