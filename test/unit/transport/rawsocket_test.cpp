// RawSocket transport against in-process fake routers (TCP and Unix domain sockets).
#include "transport_test_support.hpp"

#include "../../../lib/transport/rawsocket.hpp"

#include <utility>
#include <vector>

using namespace transport_test;
using wampbox::errc;
using wampbox::wire::serializer_kind;

namespace {

using bytes4 = std::array<std::uint8_t, 4>;

awaitable<bytes4> read4(server_socket& s) {
  bytes4 b{};
  co_await asio::async_read(s, asio::buffer(b), use_awaitable);
  co_return b;
}

// Takes a string: GCC 12 rejects braced initializer lists in co_await expressions
// of coroutine lambdas ("array used as initializer").
awaitable<void> write_bytes(server_socket& s, std::string bytes) {
  co_await asio::async_write(s, asio::buffer(bytes), use_awaitable);
}

/// Reads the client handshake and answers with `reply`; returns the client's request.
awaitable<bytes4> handshake(server_socket& s, bytes4 reply) {
  const bytes4 request = co_await read4(s);
  co_await write_bytes(s, std::string(reply.begin(), reply.end()));
  co_return request;
}

/// A success reply announcing 2^(9+exponent) bytes for serializer `s`.
bytes4 accept_reply(serializer_kind s, std::uint8_t exponent = 15) {
  return {0x7F, static_cast<std::uint8_t>((exponent << 4) | wampbox::wire::rawsocket_id(s)), 0, 0};
}

struct frame {
  std::uint8_t type;
  std::string payload;
};

awaitable<frame> read_frame(server_socket& s) {
  const bytes4 h = co_await read4(s);
  frame f{h[0], std::string((std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | h[3], '\0')};
  co_await asio::async_read(s, asio::buffer(f.payload), use_awaitable);
  co_return f;
}

awaitable<void> write_frame(server_socket& s, std::uint8_t type, const std::string& payload) {
  const bytes4 h{type, static_cast<std::uint8_t>(payload.size() >> 16),
                 static_cast<std::uint8_t>(payload.size() >> 8),
                 static_cast<std::uint8_t>(payload.size())};
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(h), asio::buffer(payload)};
  co_await asio::async_write(s, buffers, use_awaitable);
}

/// Waits until the client closes the connection.
awaitable<void> expect_eof(server_socket& s) {
  std::array<char, 1> byte{};
  auto [ec, n] = co_await asio::async_read(s, asio::buffer(byte), use_tuple);
  CHECK(ec == asio::error::eof);
}

/// Connects to `l` over RawSocket and requires success.
awaitable<std::shared_ptr<wt::transport>> connect_ok(asio::io_context& ioc, const listener& l,
                                                     wt::transport_options o) {
  o.url = l.url("rs");
  auto [ec, t] = co_await wt::async_connect(ioc.get_executor(), o, use_tuple);
  REQUIRE_MESSAGE(!ec, ec.message());
  REQUIRE(t != nullptr);
  co_return t;
}

/// Connects and returns only the error.
awaitable<error_code> connect_error(asio::io_context& ioc, const listener& l,
                                    wt::transport_options o) {
  o.url = l.url("rs");
  auto [ec, t] = co_await wt::async_connect(ioc.get_executor(), o, use_tuple);
  CHECK(t == nullptr);
  co_return ec;
}

const std::string big_message(70 * 1024, 'z');

}  // namespace

TEST_CASE("rawsocket: length exponent and limits") {
  using wampbox::transport::detail::rawsocket_length_exponent;
  using wampbox::transport::detail::rawsocket_max_length;
  CHECK(rawsocket_length_exponent(0) == 0);
  CHECK(rawsocket_length_exponent(512) == 0);
  CHECK(rawsocket_length_exponent(513) == 1);
  CHECK(rawsocket_length_exponent(1024) == 1);
  CHECK(rawsocket_length_exponent(65536) == 7);
  CHECK(rawsocket_length_exponent(16 * 1024 * 1024) == 15);
  CHECK(rawsocket_length_exponent(std::size_t{1} << 30) == 15);
  CHECK(rawsocket_max_length(0) == 512);
  CHECK(rawsocket_max_length(7) == 65536);
  // 2^24 does not fit the 24-bit length field.
  CHECK(rawsocket_max_length(15) == 0xFFFFFF);
}

TEST_CASE("rawsocket: handshake and echo over TCP and Unix sockets, every serializer") {
  for (auto kind : {listener::kind::tcp, listener::kind::unix_domain}) {
    for (auto s : {serializer_kind::json, serializer_kind::msgpack, serializer_kind::cbor}) {
      CAPTURE(static_cast<int>(kind));
      CAPTURE(static_cast<int>(s));
      run([&](asio::io_context& ioc) -> awaitable<void> {
        listener l(ioc, kind);
        const std::vector<std::string> messages{"", "x", big_message, "[1,2,3]"};

        auto server = [&]() -> awaitable<void> {
          auto sock = co_await l.accept();
          const bytes4 request = co_await handshake(sock, accept_reply(s, 8));
          // 100 KiB requested -> 2^17: LENGTH 8.
          CHECK(request ==
                bytes4{0x7F, static_cast<std::uint8_t>(0x80 | static_cast<int>(s)), 0, 0});
          for (const auto& expected : messages) {
            frame f = co_await read_frame(sock);
            CHECK(f.type == 0);
            CHECK(f.payload == expected);
            co_await write_frame(sock, 0, f.payload);
          }
        };
        auto client = [&]() -> awaitable<void> {
          auto o = options_for("", s);
          o.max_message_size = 100 * 1024;
          auto t = co_await connect_ok(ioc, l, o);
          CHECK(t->serializer() == s);
          CHECK(t->max_send_size() == 128 * 1024);
          for (const auto& m : messages) {
            auto [send_ec] = co_await async_send(*t, m, use_tuple);
            CHECK(!send_ec);
            auto [ec, echo] = co_await async_receive(*t, use_tuple);
            CHECK_MESSAGE(!ec, ec.message());
            CHECK(echo == m);
          }
          t->close();
        };
        co_await (server() && client());
      });
    }
  }
}

TEST_CASE("rawsocket: sends issued back to back arrive in order") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      for (int i = 0; i < 50; ++i) CHECK((co_await read_frame(sock)).payload == std::to_string(i));
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for(""));
      std::vector<int> completed;
      for (int i = 0; i < 49; ++i)
        t->async_send(std::to_string(i), [&completed, i](error_code ec) {
          CHECK(!ec);
          completed.push_back(i);
        });
      auto [ec] = co_await async_send(*t, "49", use_tuple);
      CHECK(!ec);
      REQUIRE(completed.size() == 49);
      for (int i = 0; i < 49; ++i) CHECK(completed[i] == i);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: router error replies map to typed errors") {
  const std::vector<std::pair<std::uint8_t, errc>> cases{
      {1, errc::serializer_unsupported}, {2, errc::max_length_unacceptable},
      {3, errc::use_of_reserved_bits},   {4, errc::connection_limit},
      {0, errc::handshake_failed},       {5, errc::handshake_failed},
      {15, errc::handshake_failed}};
  for (const auto& [code, expected] : cases) {
    CAPTURE(static_cast<int>(code));
    run([&](asio::io_context& ioc) -> awaitable<void> {
      listener l(ioc, listener::kind::tcp);
      auto server = [&]() -> awaitable<void> {
        auto sock = co_await l.accept();
        co_await handshake(sock, bytes4{0x7F, static_cast<std::uint8_t>(code << 4), 0, 0});
      };
      auto client = [&]() -> awaitable<void> {
        CHECK(co_await connect_error(ioc, l, options_for("")) == expected);
      };
      co_await (server() && client());
    });
  }
}

TEST_CASE("rawsocket: malformed handshake replies fail the handshake") {
  const std::vector<bytes4> replies{
      {0x7E, 0xF1, 0, 0},  // bad magic
      {0x00, 0x00, 0, 0},  // bad magic, no error code
      {0x7F, 0xF2, 0, 0},  // msgpack echoed although JSON was requested
  };
  for (const auto& reply : replies) {
    CAPTURE(static_cast<int>(reply[0]));
    CAPTURE(static_cast<int>(reply[1]));
    run([&](asio::io_context& ioc) -> awaitable<void> {
      listener l(ioc, listener::kind::unix_domain);
      auto server = [&]() -> awaitable<void> {
        auto sock = co_await l.accept();
        co_await handshake(sock, reply);
      };
      auto client = [&]() -> awaitable<void> {
        CHECK(co_await connect_error(ioc, l, options_for("")) == errc::handshake_failed);
      };
      co_await (server() && client());
    });
  }
}

TEST_CASE("rawsocket: router closing during the handshake fails it") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await read4(sock);
      sock.close();
    };
    auto client = [&]() -> awaitable<void> {
      CHECK(co_await connect_error(ioc, l, options_for("")) == errc::handshake_failed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: PING is answered with PONG and not surfaced") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::cbor));
      co_await write_frame(sock, 1, "ping-payload");
      co_await write_frame(sock, 2, "unsolicited pong");
      co_await write_frame(sock, 1, "");
      co_await write_frame(sock, 0, "hello");
      const frame pong1 = co_await read_frame(sock);
      CHECK(pong1.type == 2);
      CHECK(pong1.payload == "ping-payload");
      const frame pong2 = co_await read_frame(sock);
      CHECK(pong2.type == 2);
      CHECK(pong2.payload.empty());
      const frame reply = co_await read_frame(sock);
      CHECK(reply.type == 0);
      CHECK(reply.payload == "after");
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for("", serializer_kind::cbor));
      auto [ec, m] = co_await async_receive(*t, use_tuple);
      CHECK(!ec);
      CHECK(m == "hello");
      auto [send_ec] = co_await async_send(*t, "after", use_tuple);
      CHECK(!send_ec);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: a PING flood from a peer that never reads costs at most two PONGs") {
  // A Unix socket: its buffers (~200 KiB) hold less than one PONG, so whatever the client
  // queued shows up as PONG frames once the peer finally reads. Unbounded, that was 32 MiB.
  constexpr int pings = 32;
  constexpr std::size_t ping_size = 1024 * 1024;
  auto ping_payload = [&](int i) { return std::to_string(i) + std::string(ping_size, 'p'); };
  run(
      [&](asio::io_context& ioc) -> awaitable<void> {
        listener l(ioc, listener::kind::unix_domain);
        auto server = [&]() -> awaitable<void> {
          auto sock = co_await l.accept();
          co_await handshake(sock, accept_reply(serializer_kind::json));
          for (int i = 0; i < pings; ++i) co_await write_frame(sock, 1, ping_payload(i));
          co_await write_frame(sock, 0, "last");
          // Only now read: every PONG the client queued, then its reply to "last".
          int pongs = 0;
          std::string latest;
          for (;;) {
            frame f = co_await read_frame(sock);
            if (f.type == 0) {
              CHECK(f.payload == "bye");
              break;
            }
            REQUIRE(f.type == 2);
            ++pongs;
            latest = std::move(f.payload);
          }
          CHECK(pongs >= 1);
          CHECK(pongs <= 2);  // the one in flight when the flood began, and the latest
          CHECK(latest == ping_payload(pings - 1));
        };
        auto client = [&]() -> awaitable<void> {
          auto t = co_await connect_ok(ioc, l, options_for("", serializer_kind::json));
          auto [ec, m] = co_await async_receive(*t, use_tuple);
          CHECK(!ec);
          CHECK(m == "last");
          auto [send_ec] = co_await async_send(*t, "bye", use_tuple);
          CHECK(!send_ec);
        };
        co_await (server() && client());
      },
      60s);
}

TEST_CASE("rawsocket: incoming frame above the announced maximum closes the transport") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      co_await write_frame(sock, 0, std::string(1024, 'a'));
      // A complete frame of 1025 bytes: the client refuses it by its header (the payload is never
      // read); a client without the limit would return it, and the test says so at once.
      co_await write_frame(sock, 0, std::string(1025, 'b'));
      // The client closes with that payload unread, which the kernel may report as a reset.
      std::array<char, 1> byte{};
      auto [ec, n] = co_await asio::async_read(sock, asio::buffer(byte), use_tuple);
      CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
    };
    auto client = [&]() -> awaitable<void> {
      auto o = options_for("");
      o.max_message_size = 1000;  // announced as 1024
      auto t = co_await connect_ok(ioc, l, o);
      auto [ec1, m] = co_await async_receive(*t, use_tuple);
      CHECK(!ec1);
      CHECK(m.size() == 1024);
      auto [ec2, m2] = co_await async_receive(*t, use_tuple);
      CHECK(ec2 == errc::message_too_large);
      CHECK(m2.empty());
      auto [send_ec] = co_await async_send(*t, "late", use_tuple);
      CHECK(send_ec == errc::transport_closed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: reserved bits or unknown frame type are malformed") {
  for (std::uint8_t first_byte : {std::uint8_t{0x03}, std::uint8_t{0x08}, std::uint8_t{0x80}}) {
    CAPTURE(static_cast<int>(first_byte));
    run([&](asio::io_context& ioc) -> awaitable<void> {
      listener l(ioc, listener::kind::tcp);
      auto server = [&]() -> awaitable<void> {
        auto sock = co_await l.accept();
        co_await handshake(sock, accept_reply(serializer_kind::json));
        co_await write_bytes(
            sock, std::string(1, static_cast<char>(first_byte)) + std::string("\x00\x00\x01x", 4));
      };
      auto client = [&]() -> awaitable<void> {
        auto t = co_await connect_ok(ioc, l, options_for(""));
        auto [ec, m] = co_await async_receive(*t, use_tuple);
        CHECK(ec == errc::malformed_message);
      };
      co_await (server() && client());
    });
  }
}

TEST_CASE("rawsocket: outgoing message above the router maximum is refused, transport survives") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::msgpack, 0));
      const frame f = co_await read_frame(sock);
      CHECK(f.payload == std::string(512, 'b'));
      co_await write_frame(sock, 0, "ok");
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for("", serializer_kind::msgpack));
      CHECK(t->max_send_size() == 512);
      auto [ec1] = co_await async_send(*t, std::string(513, 'a'), use_tuple);
      CHECK(ec1 == errc::message_too_large);
      auto [ec2] = co_await async_send(*t, std::string(512, 'b'), use_tuple);
      CHECK(!ec2);
      auto [ec3, m] = co_await async_receive(*t, use_tuple);
      CHECK(!ec3);
      CHECK(m == "ok");
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: close completes pending and later operations with transport_closed") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::unix_domain);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      co_await expect_eof(sock);
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for(""));
      asio::steady_timer later(ioc, 20ms);
      later.async_wait([t](error_code) {
        t->close();
        t->close();  // idempotent
      });
      auto [ec, m] = co_await async_receive(*t, use_tuple);
      CHECK(ec == errc::transport_closed);
      auto [ec2, m2] = co_await async_receive(*t, use_tuple);
      CHECK(ec2 == errc::transport_closed);
      auto [ec3] = co_await async_send(*t, "x", use_tuple);
      CHECK(ec3 == errc::transport_closed);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: a second concurrent receive is refused") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      co_await write_frame(sock, 0, "one");
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for(""));
      std::string first;
      event first_done(ioc);
      t->async_receive([&](error_code ec, std::string m) {
        CHECK(!ec);
        first = std::move(m);
        first_done.set();
      });
      auto [ec, m] = co_await async_receive(*t, use_tuple);
      CHECK(ec == asio::error::already_started);
      co_await first_done.wait();
      CHECK(first == "one");
      auto [ec2, m2] = co_await async_receive(*t, use_tuple);
      CHECK(ec2 == errc::transport_closed);  // the server hung up
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: the transport outlives the caller's reference while a receive is pending") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      asio::steady_timer pause(ioc, 20ms);
      co_await pause.async_wait(use_awaitable);
      co_await write_frame(sock, 0, "still here");
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, options_for(""));
      std::weak_ptr<wt::transport> weak = t;
      event received(ioc);
      t->async_receive([&](error_code ec, std::string m) {
        CHECK(!ec);
        CHECK(m == "still here");
        received.set();
      });
      t.reset();
      CHECK(!weak.expired());
      co_await received.wait();
      CHECK(weak.expired());
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: keep-alive PINGs when idle; an unanswered one fails the transport") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto o = options_for("", serializer_kind::json);
    o.keepalive_interval = 100ms;
    o.keepalive_timeout = 200ms;
    o.rawsocket_keepalive = true;
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      const frame first = co_await read_frame(sock);
      CHECK(first.type == 1);
      co_await write_frame(sock, 2, first.payload);  // answered: the client keeps going
      const frame second = co_await read_frame(sock);
      CHECK(second.type == 1);
      co_await expect_eof(sock);  // not answered: the client gives up and closes
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, o);
      const auto start = std::chrono::steady_clock::now();
      auto [ec, m] = co_await async_receive(*t, use_tuple);
      const auto waited = std::chrono::steady_clock::now() - start;
      CHECK(ec == errc::keepalive_timeout);
      // two intervals and one timeout at least; generous slack for a loaded machine
      CHECK(waited >= 2 * o.keepalive_interval + o.keepalive_timeout);
      CHECK(waited < 2 * o.keepalive_interval + o.keepalive_timeout + 2s);
      auto [send_ec] = co_await async_send(*t, "late", use_tuple);
      CHECK(send_ec == errc::keepalive_timeout);
    };
    co_await (server() && client());
  });
}

TEST_CASE("rawsocket: no PING unless rawsocket_keepalive (Crossbar.io drops the connection)") {
  run([](asio::io_context& ioc) -> awaitable<void> {
    listener l(ioc, listener::kind::tcp);
    auto o = options_for("", serializer_kind::json);
    o.keepalive_interval = 50ms;
    o.keepalive_timeout = 50ms;
    auto server = [&]() -> awaitable<void> {
      auto sock = co_await l.accept();
      co_await handshake(sock, accept_reply(serializer_kind::json));
      asio::steady_timer quiet(ioc, 500ms);
      co_await quiet.async_wait(use_awaitable);
      co_await write_frame(sock, 0, "still here");
      const frame reply = co_await read_frame(sock);
      CHECK(reply.type == 0);  // the first frame the client ever sent: no PING before it
      CHECK(reply.payload == "reply");
    };
    auto client = [&]() -> awaitable<void> {
      auto t = co_await connect_ok(ioc, l, o);
      auto [ec, m] = co_await async_receive(*t, use_tuple);
      CHECK(!ec);
      CHECK(m == "still here");
      auto [send_ec] = co_await async_send(*t, "reply", use_tuple);
      CHECK(!send_ec);
    };
    co_await (server() && client());
  });
}
