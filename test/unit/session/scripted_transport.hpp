// Session tests' router stand-in: a transport whose far end is the test, and a joined session.
#pragma once

#include <wampbox/wampbox.hpp>

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wampbox::test {

namespace asio = boost::asio;

/// A transport whose far end is the test: it records what the session sends and delivers
/// what the test pushes.
class scripted_transport final : public transport::transport {
 public:
  explicit scripted_transport(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  wire::serializer_kind serializer() const noexcept override { return wire::serializer_kind::json; }
  std::size_t max_send_size() const noexcept override { return 1 << 20; }
  asio::any_io_executor get_executor() const override { return ex_; }
  std::string channel_binding_tls_unique() const override { return tls_unique; }

  void async_send(std::string message,
                  std::function<void(boost::system::error_code)> handler) override {
    sent.push_back(wire::read_json(message));
    asio::post(ex_, [handler] { handler({}); });
  }
  void async_receive(std::function<void(boost::system::error_code, std::string)> h) override {
    pending_ = std::move(h);
    deliver();
  }
  void close() override {
    closed = true;
    if (auto h = std::exchange(pending_, nullptr))
      asio::post(ex_, [h] { h(asio::error::operation_aborted, {}); });
  }

  /// Delivers raw bytes as the router's next message.
  void push_raw(std::string bytes) {
    inbox_.push_back(std::move(bytes));
    deliver();
  }
  /// Delivers a WAMP array as the router's next message.
  void push(const value& array) {
    std::string bytes;
    wire::write_json(array, bytes);
    push_raw(std::move(bytes));
  }

  std::vector<value> sent;
  bool closed = false;
  /// What the transport reports as TLS channel-binding data (empty: not TLS).
  std::string tls_unique;

 private:
  void deliver() {
    if (!pending_ || inbox_.empty()) return;
    auto h = std::exchange(pending_, nullptr);
    asio::post(ex_, [h, m = std::move(inbox_.front())] { h({}, m); });
    inbox_.pop_front();
  }

  asio::any_io_executor ex_;
  std::function<void(boost::system::error_code, std::string)> pending_;
  std::deque<std::string> inbox_;
};

/// A joined session on a scripted transport.
struct fixture {
  asio::io_context io;
  std::shared_ptr<scripted_transport> router =
      std::make_shared<scripted_transport>(io.get_executor());
  // Before the session: its end (in the destructor) still reports to them.
  std::exception_ptr ended;
  bool disconnected = false;
  std::optional<session> held{std::in_place, io.get_executor()};
  session& s = *held;  ///< the session (invalid once a test resets `held`)

  void settle() {
    io.restart();
    io.poll();
  }

  /// Runs the io_context (timers included) until `done()` or about three seconds passed.
  void run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
  }

  void join(std::shared_ptr<codec::payload_codec> codec = nullptr) {
    if (codec) s.set_payload_codec(std::move(codec));
    s.on_disconnect([this](std::exception_ptr e) {
      disconnected = true;
      ended = e;
    });
    s.attach(router);
    bool joined = false;
    s.async_join(join_options{}, [&](std::exception_ptr e, welcome_info) { joined = !e; });
    settle();
    router->push(value::array({2, 12345, {{"roles", {{"broker", value::object()}}}}}));
    settle();
    REQUIRE(joined);
  }

  /// The last message sent, as an array.
  const value& last() const {
    REQUIRE_FALSE(router->sent.empty());
    return router->sent.back();
  }

  /// Subscribes `h` to `topic`; the router confirms with subscription id `id`.
  subscription subscribe(const std::string& topic, std::function<void(const event&)> h,
                         wire::id id = 55) {
    subscription sub;
    s.async_subscribe(topic, std::move(h), {}, [&sub](std::exception_ptr e, subscription made) {
      REQUIRE_FALSE(e);
      sub = made;
    });
    settle();
    router->push(value::array({33, last()[1], id}));
    settle();
    return sub;
  }

  /// Registers `uri`, answers REGISTERED with registration id 777, and REQUIREs that the
  /// session completed the registration; returns the id the session reported.
  wire::id register_procedure(const std::string& uri, invocation_handler h) {
    std::optional<registration> registered;
    std::exception_ptr failed;
    s.async_register(uri, std::move(h), {}, [&](std::exception_ptr e, registration r) {
      failed = e;
      registered = std::move(r);
    });
    settle();
    REQUIRE(last()[0] == 64);
    CHECK(last()[3] == uri);
    const auto request = last()[1];
    router->push(value::array({65, request, 777}));
    settle();
    REQUIRE_MESSAGE(registered, "the registration never completed");
    REQUIRE_FALSE(failed);
    CHECK(registered->procedure == uri);
    CHECK(registered->id == 777);
    return registered->id;
  }
};

/// The error code an exception carries (empty for none, or for an exception of another type).
inline boost::system::error_code code_of(std::exception_ptr e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const error& ex) {
    return ex.code();
  } catch (...) {
    return {};
  }
}

/// A payload codec recording the hook calls; can be told to refuse one kind.
struct recording_codec final : codec::payload_codec {
  std::vector<std::pair<codec::payload_kind, std::string>> calls;
  std::optional<codec::payload_kind> refuse;

  void encode(codec::payload_kind kind, std::string_view uri, value& options, wire::payload&,
              codec::call_context&) override {
    calls.emplace_back(kind, std::string(uri));
    if (refuse == kind) throw payload_error(errc::encryption_required, "no key");
    options["hooked"] = true;
  }
  void decode(codec::payload_kind kind, std::string_view uri, const value&, wire::payload& data,
              codec::call_context& call) override {
    calls.emplace_back(kind, std::string(uri));
    if (refuse == kind) throw payload_error(errc::decryption_failed, "bad tag");
    call.encrypted = true;
    data.args = value::array({"decoded"});
    data.opaque.reset();  // decoded: a payload left opaque is handed over as binary
  }
};

}  // namespace wampbox::test
