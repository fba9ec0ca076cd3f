// transport::connect: URL validation, connection errors and the handshake deadline.
#include "transport_test_support.hpp"

#include "../../../lib/transport/url.hpp"

#include <optional>
#include <utility>
#include <vector>

using namespace transport_test;
using wampbox::errc;
using wampbox::transport::detail::parse_url;
using wampbox::transport::detail::url_kind;

TEST_CASE("url: accepted forms") {
  SUBCASE("ws with path and query") {
    const auto u = parse_url("ws://example.org:8080/ws/a%20b?realm=x");
    CHECK(u.kind == url_kind::websocket);
    CHECK(u.host == "example.org");
    CHECK(u.port == 8080);
    CHECK(u.host_header == "example.org:8080");
    CHECK(u.target == "/ws/a%20b?realm=x");
  }
  SUBCASE("ws default port and target") {
    const auto u = parse_url("ws://localhost");
    CHECK(u.port == 80);
    CHECK(u.target == "/");
    CHECK(u.host_header == "localhost:80");
  }
  SUBCASE("ws IPv6 literal") {
    const auto u = parse_url("ws://[::1]:9000/");
    CHECK(u.host == "::1");
    CHECK(u.host_header == "[::1]:9000");
  }
  SUBCASE("rs and tcp") {
    for (const char* url : {"rs://127.0.0.1:8081", "tcp://127.0.0.1:8081/"}) {
      CAPTURE(url);
      const auto u = parse_url(url);
      CHECK(u.kind == url_kind::rawsocket_tcp);
      CHECK(u.host == "127.0.0.1");
      CHECK(u.port == 8081);
    }
  }
  SUBCASE("wss: TLS, default port 443") {
    const auto u = parse_url("wss://router.example.org/ws");
    CHECK(u.kind == url_kind::websocket);
    CHECK(u.tls);
    CHECK(u.port == 443);
    CHECK(u.host_header == "router.example.org:443");
    CHECK(u.target == "/ws");
    CHECK_FALSE(parse_url("ws://router.example.org/ws").tls);
  }
  SUBCASE("rss: RawSocket over TLS") {
    const auto u = parse_url("rss://127.0.0.1:8083");
    CHECK(u.kind == url_kind::rawsocket_tcp);
    CHECK(u.tls);
    CHECK(u.port == 8083);
    CHECK_FALSE(parse_url("rs://127.0.0.1:8083").tls);
  }
  SUBCASE("unix") {
    const auto u = parse_url("unix:///run/router%201.sock");
    CHECK(u.kind == url_kind::rawsocket_unix);
    CHECK(u.unix_path == "/run/router 1.sock");
  }
}

TEST_CASE("url: rejected forms name the problem") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"http://x", "unsupported scheme 'http'"},
      {"wss-ish://x:1", "unsupported scheme"},
      {"ws://", "missing host"},
      {"ws://:80/", "missing host"},
      {"rs://host", "missing port"},
      {"rs://host:0", "port must be 1..65535"},
      {"rs://host:70000", "port must be 1..65535"},
      {"rs://host:1/path", "no path"},
      {"rss://host", "missing port"},
      {"rss://host:1/path", "no path"},
      {"rs://user@host:1", "credentials"},
      {"ws://host:1/#frag", "fragments"},
      {"unix://relative", "empty host"},
      {"unix:relative", "empty host"},
      {"unix:///", "absolute path"},
      {"unix:///" + std::string(200, 'a'), "too long"},
      {"garbage", "not an absolute URI"},
      {"", "not an absolute URI"},
      {"ws://ho st:1", "not an absolute URI"},
  };
  for (const auto& [url, reason] : cases) {
    CAPTURE(url);
    try {
      parse_url(url);
      FAIL("accepted");
    } catch (const wampbox::error& e) {
      CHECK(e.code() == errc::invalid_url);
      CHECK_MESSAGE(std::string(e.what()).find(reason) != std::string::npos, e.what());
    }
  }
}

TEST_CASE("connect: invalid URLs complete with invalid_url, asynchronously") {
  for (const char* url : {"http://x", "ws://", "rs://host", "unix://relative", "garbage"}) {
    CAPTURE(url);
    run([&](asio::io_context& ioc) -> awaitable<void> {
      bool inline_call = true;
      event done(ioc);
      error_code result;
      wt::connect(ioc.get_executor(), options_for(url),
                  [&](error_code ec, std::shared_ptr<wt::transport> t) {
                    CHECK(!inline_call);
                    CHECK(t == nullptr);
                    result = ec;
                    done.set();
                  });
      inline_call = false;
      co_await done.wait();
      CHECK(result == errc::invalid_url);
    });
  }
}

TEST_CASE("connect: connection refused is reported") {
  for (const char* scheme : {"ws", "rs"}) {
    CAPTURE(scheme);
    run([&](asio::io_context& ioc) -> awaitable<void> {
      std::string url;
      {
        listener l(ioc, listener::kind::tcp);
        url = l.url(scheme);
      }  // closed again: nothing listens on that port now
      auto [ec, t] = co_await wt::async_connect(ioc.get_executor(), options_for(url), use_tuple);
      CHECK(ec == asio::error::connection_refused);
      CHECK(t == nullptr);
    });
  }
}

TEST_CASE("connect: missing Unix socket is reported") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    std::string url;
    {
      listener l(ioc, listener::kind::unix_domain);
      url = l.url("unix");
    }  // directory removed
    auto [ec, t] = co_await wt::async_connect(ioc.get_executor(), options_for(url), use_tuple);
    CHECK(ec);
    CHECK(t == nullptr);
  });
}

TEST_CASE("connect: a router that never answers the handshake -> timed_out") {
  for (auto kind : {listener::kind::tcp, listener::kind::unix_domain}) {
    for (const char* scheme : {"ws", "rs"}) {
      if (kind == listener::kind::unix_domain && std::string(scheme) == "ws") continue;
      CAPTURE(scheme);
      CAPTURE(static_cast<int>(kind));
      run([&](asio::io_context& ioc) -> awaitable<void> {
        listener l(ioc, kind);
        std::optional<server_socket> silent;  // accepted, never answered
        auto server = [&]() -> awaitable<void> { silent.emplace(co_await l.accept()); };
        auto client = [&]() -> awaitable<void> {
          auto o = options_for(l.url(scheme));
          o.handshake_timeout = 200ms;
          const auto start = std::chrono::steady_clock::now();
          auto [ec, t] = co_await wt::async_connect(ioc.get_executor(), o, use_tuple);
          const auto elapsed = std::chrono::steady_clock::now() - start;
          CHECK(ec == asio::error::timed_out);
          CHECK(t == nullptr);
          CHECK(elapsed >= 150ms);
          CHECK(elapsed < 2s);
        };
        co_await (server() && client());
      });
    }
  }
}
