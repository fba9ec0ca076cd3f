// Session guards around a refusing payload codec: nothing unprotected goes out, and nothing the
// codec refused reaches the application. Each test fails when its guard is removed
// (scripts/mutate breaks them one at a time).
#include "scripted_transport.hpp"

using namespace wampbox;
using namespace wampbox::test;
using k = codec::payload_kind;

namespace {

/// True when `needle` occurs in any message the session sent.
bool sent_contains(const fixture& f, const std::string& needle) {
  for (const auto& m : f.router->sent) {
    if (m.dump().find(needle) != std::string::npos) return true;
  }
  return false;
}

/// A joined session whose codec refuses `refused`, with one call to com.example.proc in flight.
struct pending_call : fixture {
  std::shared_ptr<recording_codec> codec = std::make_shared<recording_codec>();
  int completions = 0;
  int progress_results = 0;
  std::exception_ptr failure;
  call_result result;
  wire::id request = 0;

  explicit pending_call(k refused) {
    join(codec);
    codec->refuse = refused;
    call_options options;
    options.on_progress = [this](const call_result&) { ++progress_results; };
    s.async_call("com.example.proc", value::array({1}), nullptr, options,
                 [this](std::exception_ptr e, call_result r) {
                   ++completions;
                   failure = e;
                   result = std::move(r);
                 });
    settle();
    REQUIRE(last()[0] == 48);
    request = last()[1].get<wire::id>();
  }
};

}  // namespace

TEST_CASE("guard: a callee ERROR whose payload cannot be encrypted goes out without that payload") {
  fixture f;
  auto codec = std::make_shared<recording_codec>();
  f.join(codec);
  codec->refuse = k::call_error;
  f.register_procedure("com.example.p", [](invocation, responder r) {
    r.error("com.example.denied", value::array({"secret-arg"}), {{"secret-key", "secret-kwarg"}});
  });
  f.router->push(value::array({68, 1, 777, value::object(), value::array({"x"})}));
  f.settle();
  const value expected = value::array(
      {8, 68, 1, value::object(), payload_error(errc::encryption_required, "no key").uri()});
  CHECK(f.last() == expected);
  CHECK_FALSE(sent_contains(f, "secret"));
  CHECK_FALSE(f.disconnected);
}

TEST_CASE("guard: a RESULT that fails to decode fails the call; nothing of it is delivered") {
  pending_call f(k::result);
  f.router->push(value::array({50, f.request, value::object(), value::array({"forged"})}));
  f.settle();
  REQUIRE(f.completions == 1);
  REQUIRE(f.failure);
  CHECK(code_of(f.failure) == errc::decryption_failed);
  CHECK(f.result.args.is_null());
  // The call is over: a later RESULT for the same request is ignored.
  f.codec->refuse.reset();
  f.router->push(value::array({50, f.request, value::object(), value::array({"late"})}));
  f.settle();
  CHECK(f.completions == 1);
  CHECK_FALSE(f.disconnected);
}

TEST_CASE("guard: a progressive RESULT that fails to decode fails the call, never on_progress") {
  pending_call f(k::result);
  f.router->push(value::array({50, f.request, {{"progress", true}}, value::array({"forged"})}));
  f.settle();
  CHECK(f.progress_results == 0);
  REQUIRE(f.completions == 1);
  CHECK(code_of(f.failure) == errc::decryption_failed);
}

TEST_CASE("guard: a call ERROR whose payload fails to decode fails with the codec's error") {
  pending_call f(k::result_error);
  f.router->push(value::array(
      {8, 48, f.request, value::object(), "com.example.err", value::array({"forged"})}));
  f.settle();
  REQUIRE(f.completions == 1);
  REQUIRE(f.failure);
  CHECK(code_of(f.failure) == errc::decryption_failed);
  try {
    std::rethrow_exception(f.failure);
  } catch (const wamp_error& e) {
    FAIL("the undecodable ERROR reached the caller as a wamp_error: " << e.uri());
  } catch (const error&) {
  }
}
