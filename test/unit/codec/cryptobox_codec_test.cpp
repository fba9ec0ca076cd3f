// cryptobox_codec: Autobahn's payload format, policies, every refusal, tampering, binding, replay.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/error.hpp>

#include "codec_test_util.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;
using pk = payload_kind;

namespace {

const std::string topic = "com.example.topic";
const std::string proc = "com.example.proc";
const std::string error_uri = "com.example.error.invalid";
const std::string payload_hex =  // §1.5, nonce 00..17
    "000102030405060708090a0b0c0d0e0f1011121314151617aa3167a5424e13a0533ace6c3e17d95369d7ae2b331f47"
    "f09a9d2c2d9a3a70d00566712817dcdf5c8db867bac3266a300b766c02084d302691b752a7652459c92c1a4b610d96"
    "7cedc5446618d0039529bab9850661a3e2a569cb13c187";

wire::payload vector_args() {
  return {value::array({1, "two", {{"three", 3.0}}}), {{"k", "v"}}, std::nullopt};
}

value enc_details() { return {{"enc_algo", "cryptobox"}, {"enc_serializer", "json"}}; }

/// Seals arbitrary plaintext with the vector K and a random nonce, as a peer with the key could.
bytes seal(std::string_view plaintext) {
  const bytes k = from_hex(vector_k_hex);
  bytes box(24 + 16 + plaintext.size());
  randombytes_buf(box.data(), 24);
  crypto_box_easy_afternm(box.data() + 24, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(), box.data(), k.data());
  return box;
}

/// An originator (publisher/caller) and a responder (subscriber/callee) over the vector keys.
struct pair_of_codecs {
  cryptobox_codec originator;
  cryptobox_codec responder;
  explicit pair_of_codecs(cryptobox_options o = {}, cryptobox_options r = {},
                          key_policy policy = key_policy::strict)
      : originator(originator_ring("com.example.", policy), std::move(o)),
        responder(responder_ring("com.example.", policy), std::move(r)) {}

  /// PUBLISH on `uri`; returns the EVENT payload the router would forward.
  wire::payload publish(const std::string& uri, wire::payload data = vector_args()) {
    value options = value::object();
    call_context ctx;
    originator.encode(pk::publish, uri, options, data, ctx);
    return data;
  }
};

}  // namespace

TEST_SUITE("codec.cryptobox") {
  TEST_CASE("with binding off and the vector nonce, PUBLISH is Autobahn's payload byte for byte") {
    cryptobox_codec c(originator_ring(), autobahn_identical(0x00));
    value options = value::object();
    wire::payload data = vector_args();
    call_context ctx;
    c.encode(pk::publish, topic, options, data, ctx);
    CHECK(options == enc_details());
    CHECK(data.args.is_null());
    CHECK(data.kwargs.is_null());
    REQUIRE(data.opaque);
    CHECK(hex(data.opaque->data(), data.opaque->size()) == payload_hex);
    CHECK(ctx.encrypted);
  }

  TEST_CASE("the §1.5 payload decodes at the subscriber") {
    cryptobox_codec sub(responder_ring());
    wire::payload data{nullptr, nullptr, from_hex(payload_hex)};
    call_context ctx;
    sub.decode(pk::event, topic, enc_details(), data, ctx);
    CHECK(data == vector_args());
    CHECK(ctx.encrypted);
    CHECK(ctx.binding.empty());
  }

  TEST_CASE("publish -> event round trip with binding, binary and unicode arguments") {
    pair_of_codecs p;
    wire::payload sent{value::array({make_binary({0, 1, 2, 255}), "zürich \xe2\x9c\x93", nullptr}),
                       nullptr, std::nullopt};
    wire::payload data = p.publish(topic, sent);
    REQUIRE(data.opaque);
    call_context ctx;
    p.responder.decode(pk::event, topic, enc_details(), data, ctx);
    CHECK(data == sent);
    CHECK(ctx.encrypted);
  }

  TEST_CASE("call -> invocation -> yield -> result, and the callee's error") {
    pair_of_codecs p;
    value options = value::object();
    wire::payload call_data = vector_args();
    call_context caller;
    p.originator.encode(pk::call, proc, options, call_data, caller);
    CHECK(caller.encrypted);
    CHECK(caller.binding.size() == 32);

    call_context callee;
    p.responder.decode(pk::invocation, proc, options, call_data, callee);
    CHECK(call_data == vector_args());
    CHECK(callee.encrypted);
    CHECK(callee.binding == caller.binding);

    for (int progress = 0; progress < 2; ++progress) {  // progressive results share the call id
      value yopts = value::object();
      wire::payload result{value::array({42 + progress}), nullptr, std::nullopt};
      p.responder.encode(pk::yield, proc, yopts, result, callee);
      REQUIRE(result.opaque);
      p.originator.decode(pk::result, proc, yopts, result, caller);
      CHECK(result.args == value::array({42 + progress}));
    }

    value eopts = value::object();
    wire::payload err{value::array({"bad"}), {{"code", 7}}, std::nullopt};
    p.responder.encode(pk::call_error, error_uri, eopts, err, callee);
    REQUIRE(err.opaque);
    p.originator.decode(pk::result_error, error_uri, eopts, err, caller);
    CHECK(err.args == value::array({"bad"}));
    CHECK(err.kwargs == value{{"code", 7}});
  }

  TEST_CASE("URIs without any entry travel in plaintext both ways") {
    pair_of_codecs p;
    wire::payload data = p.publish("org.other.topic");
    CHECK_FALSE(data.opaque);
    CHECK(data == vector_args());
    call_context ctx;
    p.responder.decode(pk::event, "org.other.topic", value::object(), data, ctx);
    CHECK(data == vector_args());
    CHECK_FALSE(ctx.encrypted);
  }

  TEST_CASE("envelope errors are found before decrypting (unknown algorithm and serializer)") {
    cryptobox_codec sub(responder_ring());
    // A garbage payload: had it been decrypted first, the error would be decryption_failed.
    const bytes garbage(64, 0xAB);
    auto decode_with = [&](value details) {
      wire::payload data{nullptr, nullptr, garbage};
      call_context ctx;
      return payload_errc([&] { sub.decode(pk::event, topic, details, data, ctx); });
    };
    CHECK(decode_with({{"enc_algo", "xbr"}, {"enc_serializer", "json"}}) ==
          errc::unknown_encryption_algorithm);
    CHECK(decode_with({{"enc_algo", 1}, {"enc_serializer", "json"}}) ==
          errc::unknown_encryption_algorithm);
    CHECK(decode_with({{"enc_algo", "cryptobox"}, {"enc_serializer", "msgpack"}}) ==
          errc::unknown_encryption_serializer);
    CHECK(decode_with({{"enc_algo", "cryptobox"}}) == errc::unknown_encryption_serializer);
    CHECK(decode_with(enc_details()) == errc::decryption_failed);
  }

  TEST_CASE("every refusal has its own error code and leaves the payload untouched") {
    pair_of_codecs p;
    auto refusal = [&](cryptobox_codec& c, pk kind, const std::string& uri, wire::payload data,
                       value details = enc_details()) {
      const wire::payload before = data;
      call_context ctx;
      auto code = payload_errc([&] { c.decode(kind, uri, details, data, ctx); });
      CHECK(data == before);
      CHECK_FALSE(ctx.encrypted);
      CHECK(ctx.binding.empty());
      return code;
    };
    const wire::payload good = p.publish(topic);

    SUBCASE("no_key: no entry, or a key without the needed role") {
      CHECK(refusal(p.responder, pk::event, "org.other", good) == errc::no_key);
      CHECK(refusal(p.originator, pk::event, topic, good) == errc::no_key);
      cryptobox_codec required([] {
        key_ring r;
        r.require_encryption("com.");
        return r;
      }());
      CHECK(refusal(required, pk::event, topic, good) == errc::no_key);
    }
    SUBCASE("decryption_failed: wrong key, too short") {
      cryptobox_codec other(key_ring(key::from_private(vector_responder_priv)));
      CHECK(refusal(other, pk::event, topic, good) == errc::decryption_failed);
      CHECK(refusal(p.responder, pk::event, topic, {nullptr, nullptr, bytes(39, 0)}) ==
            errc::decryption_failed);
      CHECK(refusal(p.responder, pk::event, topic, {nullptr, nullptr, bytes()}) ==
            errc::decryption_failed);
    }
    SUBCASE("invalid_payload: bad inner JSON and types, no binary") {
      CHECK(refusal(p.responder, pk::event, topic, {value::array({1}), nullptr, std::nullopt}) ==
            errc::invalid_payload);
      for (const char* inner :
           {"not json", "[1,2]", R"({"args":[]})", R"({"uri":5})",
            R"({"uri":"com.example.topic","args":{}})",
            R"({"uri":"com.example.topic","kwargs":[]})", R"({"uri":"com.example.topic","wbx":1})",
            R"({"uri":"com.example.topic","wbx":{"t":"publish","ts":"now"}})",
            R"({"uri":"com.example.topic","wbx":{"t":"publish","cid":"a\"b"}})",
            "{\"uri\":\"com.example.topic\",\"args\":[\"\xff\"]}"}) {
        CAPTURE(inner);
        CHECK(refusal(p.responder, pk::event, topic, {nullptr, nullptr, seal(inner)}) ==
              errc::invalid_payload);
      }
    }
    SUBCASE("uri_mismatch: payload moved to another topic under the same key") {
      CHECK(refusal(p.responder, pk::event, "com.example.other", good) == errc::uri_mismatch);
    }
    SUBCASE("plaintext_refused on a strict URI, also when the key is missing") {
      const wire::payload plain = vector_args();
      CHECK(refusal(p.responder, pk::event, topic, plain, value::object()) ==
            errc::plaintext_refused);
      CHECK(refusal(p.responder, pk::invocation, proc, plain, value::object()) ==
            errc::plaintext_refused);
      CHECK(refusal(p.originator, pk::result, proc, plain, value::object()) ==
            errc::plaintext_refused);
      CHECK(refusal(p.originator, pk::result_error, error_uri, plain, value::object()) ==
            errc::plaintext_refused);
      CHECK(refusal(p.responder, pk::event, topic, {}, value::object()) == errc::plaintext_refused);
    }
  }

  TEST_CASE("lax policy accepts plaintext like Autobahn; router errors pass even when strict") {
    pair_of_codecs lax({}, {}, key_policy::lax);
    wire::payload data = vector_args();
    call_context ctx;
    lax.responder.decode(pk::event, topic, value::object(), data, ctx);
    CHECK(data == vector_args());
    CHECK_FALSE(ctx.encrypted);

    key_ring strict_default(key::from_spec({vector_originator_priv, {}, {}, vector_responder_pub}));
    cryptobox_codec caller(std::move(strict_default));
    wire::payload err{value::array({"no such procedure"}), nullptr, std::nullopt};
    call_context cctx;
    caller.decode(pk::result_error, "wamp.error.no_such_procedure", value::object(), err, cctx);
    CHECK(err.args == value::array({"no such procedure"}));
    CHECK(payload_errc([&] {
            caller.decode(pk::result_error, "app.error", value::object(), err, cctx);
          }) == errc::plaintext_refused);
  }

  TEST_CASE("the router-error exemption covers only ERRORs with a wamp.* URI") {
    // Under a strict default key, a plaintext EVENT, INVOCATION or RESULT is refused even on a
    // wamp.* URI: a router may not pass off peer data as its own.
    cryptobox_codec callee(responder_ring(""));
    cryptobox_codec caller(originator_ring(""));
    auto plaintext = [](cryptobox_codec& c, pk kind, const std::string& uri) {
      wire::payload data{value::array({"data"}), nullptr, std::nullopt};
      call_context ctx;
      return payload_errc([&] { c.decode(kind, uri, value::object(), data, ctx); });
    };
    CHECK(plaintext(callee, pk::event, "wamp.session.on_join") == errc::plaintext_refused);
    CHECK(plaintext(callee, pk::invocation, "wamp.x.proc") == errc::plaintext_refused);
    CHECK(plaintext(caller, pk::result, "wamp.x.proc") == errc::plaintext_refused);
    CHECK(plaintext(caller, pk::result_error, "wampx.error") == errc::plaintext_refused);
    CHECK(plaintext(caller, pk::result_error, "wamp.error.canceled") == std::nullopt);
  }

  TEST_CASE("encryption_required instead of plaintext") {
    key_ring ring;
    ring.require_encryption("com.secret.");
    ring.set_key("com.half.",
                 key::from_spec({{}, vector_originator_pub, vector_responder_priv, {}}));
    cryptobox_codec c(std::move(ring));
    for (const auto& [kind, uri] : {std::pair{pk::publish, "com.secret.t"},
                                    {pk::call, "com.secret.p"},
                                    {pk::publish, "com.half.t"},
                                    {pk::call, "com.half.p"}}) {
      CAPTURE(uri);
      value options = value::object();
      wire::payload data = vector_args();
      call_context ctx;
      CHECK(payload_errc([&] { c.encode(kind, uri, options, data, ctx); }) ==
            errc::encryption_required);
      CHECK(data == vector_args());
      CHECK(options == value::object());
      CHECK_FALSE(ctx.encrypted);
    }
  }

  TEST_CASE("which answers are encrypted (YIELD, callee ERROR)") {
    auto answer = [](cryptobox_codec& c, pk kind, const std::string& uri, bool encrypted_call,
                     wire::payload data = vector_args()) {
      value options = value::object();
      call_context ctx{encrypted_call, {}};
      const auto code = payload_errc([&] { c.encode(kind, uri, options, data, ctx); });
      return std::pair{code, data.opaque.has_value()};
    };
    cryptobox_codec strict(responder_ring());
    cryptobox_codec lax(responder_ring("com.example.", key_policy::lax));
    cryptobox_codec none{key_ring()};
    using result = std::pair<std::optional<errc>, bool>;
    // YIELD: Autobahn (lax) follows the invocation; strict always encrypts keyed procedures.
    CHECK(answer(lax, pk::yield, proc, false) == result{std::nullopt, false});
    CHECK(answer(lax, pk::yield, proc, true) == result{std::nullopt, true});
    CHECK(answer(strict, pk::yield, proc, false) == result{std::nullopt, true});
    CHECK(answer(none, pk::yield, proc, true) == result{errc::encryption_required, false});
    CHECK(answer(none, pk::yield, proc, false) == result{std::nullopt, false});
    // ERROR: keyed by the error URI; an encrypted call's error data never leaks.
    CHECK(answer(lax, pk::call_error, error_uri, false) == result{std::nullopt, true});
    CHECK(answer(strict, pk::call_error, "org.error", true) ==
          result{errc::encryption_required, false});
    CHECK(answer(strict, pk::call_error, "org.error", true, {}) == result{std::nullopt, false});
    CHECK(answer(strict, pk::call_error, "org.error", false) == result{std::nullopt, false});
  }

  TEST_CASE("bad arguments and wrong kinds are refused without touching the message") {
    cryptobox_codec c(originator_ring());
    value options = value::object();
    call_context ctx;
    wire::payload bad{value::array({"\xc3\x28"}), nullptr, std::nullopt};  // invalid UTF-8
    const wire::payload before = bad;
    CHECK(payload_errc([&] { c.encode(pk::publish, topic, options, bad, ctx); }) ==
          errc::invalid_payload);
    CHECK(bad == before);
    CHECK(options == value::object());
    wire::payload nan{value::array({std::nan("")}), nullptr, std::nullopt};
    CHECK(payload_errc([&] { c.encode(pk::call, proc, options, nan, ctx); }) ==
          errc::invalid_payload);
    CHECK(ctx.binding.empty());
    wire::payload opaque{nullptr, nullptr, bytes{1, 2, 3}};
    CHECK(payload_errc([&] { c.encode(pk::publish, topic, options, opaque, ctx); }) ==
          errc::invalid_payload);
    wire::payload data = vector_args();
    CHECK(payload_errc([&] { c.encode(pk::event, topic, options, data, ctx); }) ==
          errc::invalid_payload);
    CHECK(payload_errc([&] { c.decode(pk::publish, topic, options, data, ctx); }) ==
          errc::invalid_payload);
    // After refusals the codec still works (the reused buffer is in a clean state).
    c.encode(pk::publish, topic, options, data, ctx);
    CHECK(data.opaque);
  }
}

TEST_SUITE("codec.cryptobox.nonces") {
  TEST_CASE("nonces never repeat, across batches and across fork()") {
    cryptobox_codec c(originator_ring());
    auto next_nonce = [&c] {
      value options = value::object();
      wire::payload data = vector_args();
      call_context ctx;
      c.encode(pk::publish, topic, options, data, ctx);
      return hex(data.opaque->data(), 24);
    };
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) seen.insert(next_nonce());  // spans several batches
    CHECK(seen.size() == 200);

    // The child's first nonce must differ from the parent's next one, although both start from
    // the same (copied) batch.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const std::string n = next_nonce();
      const auto written = ::write(fds[1], n.data(), n.size());
      ::_exit(written == static_cast<ssize_t>(n.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    const std::string parent = next_nonce();
    pollfd pfd{fds[0], POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 10000) == 1);  // the child answers within 10 s
    char buf[48];
    const auto n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(n == 48);
    CHECK(std::string(buf, 48) != parent);
    CHECK(seen.count(std::string(buf, 48)) == 0);
  }
}

TEST_SUITE("codec.cryptobox.attacks") {
  TEST_CASE("every single-bit flip of a delivered payload is rejected") {
    cryptobox_options o;
    o.binding = false;
    pair_of_codecs p(o);
    const wire::payload good = p.publish(topic, {value::array({1}), nullptr, std::nullopt});
    const bytes box = *good.opaque;
    REQUIRE(box.size() ==
            40 + std::string(R"({"uri":"com.example.topic","args":[1],"kwargs":null})").size());
    int rejected = 0;
    for (std::size_t bit = 0; bit < box.size() * 8; ++bit) {
      wire::payload data{nullptr, nullptr, box};
      (*data.opaque)[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
      call_context ctx;
      const auto code =
          payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
      rejected += code == errc::decryption_failed ? 1 : 0;
      CHECK(data.args.is_null());
    }
    CHECK(rejected == static_cast<int>(box.size() * 8));
    wire::payload data = good;  // the untouched payload still decodes
    call_context ctx;
    p.responder.decode(pk::event, topic, enc_details(), data, ctx);
    CHECK(data.args == value::array({1}));
  }

  TEST_CASE("reflection: the caller's own CALL payload presented as the RESULT") {
    pair_of_codecs p;
    value options = value::object();
    wire::payload data = vector_args();
    call_context caller;
    p.originator.encode(pk::call, proc, options, data, caller);
    CHECK(payload_errc([&] { p.originator.decode(pk::result, proc, options, data, caller); }) ==
          errc::binding_mismatch);
    // Even a caller that did not keep the call id refuses it (wrong message type).
    call_context forgetful;
    CHECK(payload_errc([&] { p.originator.decode(pk::result, proc, options, data, forgetful); }) ==
          errc::binding_mismatch);
  }

  TEST_CASE("swapped results between two concurrent calls") {
    pair_of_codecs p;
    auto round = [&](int arg, call_context& caller) {
      value options = value::object();
      wire::payload data{value::array({arg}), nullptr, std::nullopt};
      p.originator.encode(pk::call, proc, options, data, caller);
      call_context callee;
      p.responder.decode(pk::invocation, proc, options, data, callee);
      value yopts = value::object();
      wire::payload result{value::array({arg * 10}), nullptr, std::nullopt};
      p.responder.encode(pk::yield, proc, yopts, result, callee);
      return result;
    };
    call_context c1, c2;
    const wire::payload r1 = round(1, c1);
    const wire::payload r2 = round(2, c2);
    wire::payload swapped = r2;
    CHECK(payload_errc([&] {
            p.originator.decode(pk::result, proc, enc_details(), swapped, c1);
          }) == errc::binding_mismatch);
    wire::payload right = r1;
    p.originator.decode(pk::result, proc, enc_details(), right, c1);
    CHECK(right.args == value::array({10}));
  }

  TEST_CASE("an EVENT payload routed as an INVOCATION of the same URI") {
    pair_of_codecs p;
    wire::payload data = p.publish("com.example.x");
    call_context ctx;
    CHECK(payload_errc([&] {
            p.responder.decode(pk::invocation, "com.example.x", enc_details(), data, ctx);
          }) == errc::binding_mismatch);
  }

  TEST_CASE("replayed and stale events") {
    std::chrono::system_clock::time_point now{std::chrono::hours(480000)};
    // The nonce cache expires by the steady clock: it advances with the wall clock here, so that
    // the stale replay below is refused by the timestamp check alone.
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
    cryptobox_options r;
    r.clock = [&now] { return now; };
    r.steady_clock = [&steady] { return steady; };
    r.replay_window = std::chrono::seconds(60);
    cryptobox_options o = r;
    pair_of_codecs p(o, r);
    const wire::payload event = p.publish(topic);
    auto deliver = [&](wire::payload data) {
      call_context ctx;
      return payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    CHECK(deliver(event) == std::nullopt);
    CHECK(deliver(event) == errc::replayed_payload);  // same nonce within the window
    now += std::chrono::seconds(61);
    steady += std::chrono::seconds(61);
    CHECK(deliver(event) == errc::replayed_payload);  // nonce forgotten, but the timestamp is stale
    const wire::payload fresh = p.publish(topic);
    now -= std::chrono::seconds(61);
    CHECK(deliver(fresh) == errc::replayed_payload);  // from the future, beyond the window
    now += std::chrono::seconds(61);
    CHECK(deliver(fresh) == std::nullopt);
  }

  TEST_CASE("one publication through overlapping subscriptions: decoded again, right after") {
    pair_of_codecs p;
    const wire::payload first = p.publish(topic), second = p.publish(topic);
    auto deliver = [&](wire::payload data, wire::id publication) {
      call_context ctx;
      ctx.publication = publication;
      return payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    CHECK(deliver(first, 7) == std::nullopt);
    CHECK(deliver(first, 7) == std::nullopt);  // the same publication, another subscription
    CHECK(deliver(first, 8) == errc::replayed_payload);  // under another publication id
    CHECK(deliver(second, 9) == std::nullopt);
    CHECK(deliver(first, 7) == errc::replayed_payload);   // no longer the last event
    CHECK(deliver(second, 0) == errc::replayed_payload);  // publication id unknown
  }

  TEST_CASE(
      "Autobahn payloads (no marker): accepted, replay caught within the window, or refused") {
    std::chrono::system_clock::time_point now{std::chrono::hours(480000)};
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
    cryptobox_options r;
    r.clock = [&now] { return now; };
    r.steady_clock = [&steady] { return steady; };
    r.replay_window = std::chrono::seconds(60);
    cryptobox_codec sub(responder_ring(), r);
    auto deliver = [&](cryptobox_codec& c) {
      wire::payload data{nullptr, nullptr, from_hex(payload_hex)};
      call_context ctx;
      return payload_errc([&] { c.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    CHECK(deliver(sub) == std::nullopt);
    CHECK(deliver(sub) == errc::replayed_payload);
    now += std::chrono::seconds(61);
    steady += std::chrono::seconds(61);
    CHECK(deliver(sub) == std::nullopt);  // documented limit: no timestamp to check

    cryptobox_options strict = r;
    strict.require_binding = true;
    cryptobox_codec only_wampbox(responder_ring(), strict);
    CHECK(deliver(only_wampbox) == errc::binding_mismatch);

    cryptobox_options off;
    off.replay_protection = false;
    cryptobox_codec no_replay(responder_ring(), off);
    CHECK(deliver(no_replay) == std::nullopt);
    CHECK(deliver(no_replay) == std::nullopt);
  }

  TEST_CASE("the nonce cache is bounded") {
    cryptobox_options r;
    r.replay_cache_size = 2;
    pair_of_codecs p({}, r);
    const wire::payload e1 = p.publish(topic), e2 = p.publish(topic), e3 = p.publish(topic);
    auto deliver = [&](wire::payload data) {
      call_context ctx;
      return payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    CHECK(deliver(e1) == std::nullopt);
    CHECK(deliver(e2) == std::nullopt);
    CHECK(deliver(e3) == std::nullopt);
    CHECK(deliver(e3) == errc::replayed_payload);
    CHECK(deliver(e1) == std::nullopt);  // evicted (its timestamp is still fresh)
  }

  TEST_CASE("the nonce cache as it grows, wraps round and expires") {
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
    cryptobox_options r;
    r.replay_cache_size = 40;  // the ring grows 16 -> 32 -> 40, then wraps round
    r.steady_clock = [&steady] { return steady; };
    pair_of_codecs p({}, r);
    std::vector<wire::payload> events;
    for (int i = 0; i < 100; ++i) events.push_back(p.publish(topic));
    auto deliver = [&](int i) {
      call_context ctx;
      wire::payload data = events[static_cast<std::size_t>(i)];
      return payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    for (int i = 0; i < 100; ++i) REQUIRE(deliver(i) == std::nullopt);
    for (int i = 60; i < 100; ++i) CHECK(deliver(i) == errc::replayed_payload);  // the last 40
    CHECK(deliver(59) == std::nullopt);                                          // forgotten
    CHECK(deliver(60) == std::nullopt);  // the oldest, forgotten to make room for 59
    CHECK(deliver(99) == errc::replayed_payload);
    // Past the window on the steady clock every nonce is forgotten; the timestamps are checked
    // against the real wall clock, so they are still fresh.
    steady += r.replay_window + std::chrono::milliseconds(1);
    for (int i = 61; i < 100; ++i) CHECK(deliver(i) == std::nullopt);
    CHECK(deliver(75) == errc::replayed_payload);
  }

  TEST_CASE("wrong key and forged envelope URIs") {
    pair_of_codecs p;
    cryptobox_codec stranger(key_ring(key::from_private(vector_originator_priv)));
    value options = value::object();
    wire::payload data = vector_args();
    call_context ctx;
    stranger.encode(pk::publish, topic, options, data, ctx);
    call_context rctx;
    CHECK(payload_errc([&] { p.responder.decode(pk::event, topic, options, data, rctx); }) ==
          errc::decryption_failed);

    // A router that rewrites the envelope's URI (topic, procedure, error URI) to another one
    // under the same key: the inner URI gives it away, for every kind of incoming payload.
    auto forged = [](cryptobox_codec& c, pk kind, const std::string& uri, wire::payload data,
                     call_context ctx) {
      const wire::payload before = data;
      const auto code = payload_errc([&] { c.decode(kind, uri, enc_details(), data, ctx); });
      CHECK(data == before);
      return code;
    };
    CHECK(forged(p.responder, pk::event, topic + ".forged", p.publish(topic), {}) ==
          errc::uri_mismatch);

    value copts = value::object();
    wire::payload call = vector_args();
    call_context caller;
    p.originator.encode(pk::call, proc, copts, call, caller);
    CHECK(forged(p.responder, pk::invocation, proc + ".forged", call, {}) == errc::uri_mismatch);

    call_context callee;
    p.responder.decode(pk::invocation, proc, copts, call, callee);
    value yopts = value::object();
    wire::payload result = vector_args();
    p.responder.encode(pk::yield, proc + ".elsewhere", yopts, result, callee);
    CHECK(forged(p.originator, pk::result, proc, result, caller) == errc::uri_mismatch);

    value eopts = value::object();
    wire::payload err = vector_args();
    p.responder.encode(pk::call_error, error_uri, eopts, err, callee);
    CHECK(forged(p.originator, pk::result_error, error_uri + ".forged", err, caller) ==
          errc::uri_mismatch);
    // The same payloads under their true URIs decode: only the forgery was refused.
    wire::payload genuine = err;
    p.originator.decode(pk::result_error, error_uri, enc_details(), genuine, caller);
    CHECK(genuine.args == vector_args().args);
  }

  TEST_CASE("the peer's call id in the binding marker is bounded (64 characters)") {
    cryptobox_codec callee(responder_ring());
    auto invocation_with_cid = [&](const std::string& cid, call_context& ctx) {
      const std::string inner =
          R"({"uri":"com.example.proc","args":[1],"wbx":{"t":"call","cid":")" + cid + R"("}})";
      wire::payload data{nullptr, nullptr, seal(inner)};
      return payload_errc([&] { callee.decode(pk::invocation, proc, enc_details(), data, ctx); });
    };
    call_context longest;
    CHECK(invocation_with_cid(std::string(64, 'a'), longest) == std::nullopt);
    CHECK(longest.binding == std::string(64, 'a'));
    for (std::size_t size : {65u, 1000u, 100000u}) {
      CAPTURE(size);
      call_context ctx;
      CHECK(invocation_with_cid(std::string(size, 'a'), ctx) == errc::invalid_payload);
      CHECK(ctx.binding.empty());
    }
    call_context empty;
    CHECK(invocation_with_cid("", empty) == errc::invalid_payload);
  }

  TEST_CASE("replay cache expiry follows the steady clock: a wall clock stepped forward and back") {
    std::chrono::system_clock::time_point wall{std::chrono::hours(480000)};
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
    cryptobox_options r;
    r.clock = [&wall] { return wall; };
    r.steady_clock = [&steady] { return steady; };
    r.replay_window = std::chrono::seconds(60);
    pair_of_codecs p(r, r);
    auto deliver = [&](wire::payload data) {
      call_context ctx;
      return payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
    };
    const wire::payload first = p.publish(topic);
    CHECK(deliver(first) == std::nullopt);
    wall += std::chrono::seconds(61);  // the wall clock steps forward past the window ...
    CHECK(deliver(p.publish(topic)) == std::nullopt);  // ... while events keep arriving ...
    wall -= std::chrono::seconds(61);  // ... and back: the first event's timestamp is fresh again
    CHECK(deliver(first) == errc::replayed_payload);
    steady += std::chrono::seconds(30);  // time passes, within the window
    CHECK(deliver(first) == errc::replayed_payload);
  }

  TEST_CASE("a failed encode leaves the codec as it was: the URI cache is not poisoned") {
    pair_of_codecs p;
    auto delivers = [&](wire::payload data) {
      call_context ctx;
      const auto refused =
          payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
      return !refused && data.args == vector_args().args && data.kwargs == vector_args().kwargs;
    };
    CHECK(delivers(p.publish(topic)));  // the cache now holds the topic's JSON
    value options = value::object();
    wire::payload data = vector_args();
    call_context ctx;
    // A keyed URI that is not UTF-8: its JSON cannot be written.
    CHECK(payload_errc([&] {
            p.originator.encode(pk::publish, "com.example.\xff", options, data, ctx);
          }) == errc::invalid_payload);
    CHECK(options == value::object());
    CHECK(data == vector_args());
    CHECK(delivers(p.publish(topic)));  // the same URI again: its payload must still be right
    CHECK(delivers(p.publish(topic)));
  }

  TEST_CASE("U+0000 rule: inner JSON and wire agree both ways") {
    pair_of_codecs p;
    // Sending: a text string beginning with U+0000 cannot be carried in the inner JSON; the
    // payload is refused (never sent undecryptable or changed), and the codec stays usable.
    for (const std::string& text : {std::string("\0abc", 4), std::string("\0QQ==", 5)}) {
      value options = value::object();
      wire::payload data{value::array({text}), nullptr, std::nullopt};
      const wire::payload before = data;
      call_context ctx;
      CHECK(payload_errc([&] { p.originator.encode(pk::publish, topic, options, data, ctx); }) ==
            errc::invalid_payload);
      CHECK(data == before);
    }
    // Receiving: an inner NUL + Base64 string is binary, as on the wire; bad Base64 is refused.
    wire::payload binary{
        nullptr, nullptr,
        seal(R"({"uri":"com.example.topic","args":["\u0000QQ=="],"kwargs":null})")};
    call_context ctx;
    CHECK(payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), binary, ctx); }) ==
          std::nullopt);
    CHECK(binary.args == value::array({make_binary({'A'})}));
    wire::payload bad{nullptr, nullptr,
                      seal(R"({"uri":"com.example.topic","args":["\u0000abc"],"kwargs":null})")};
    call_context ctx2;
    CHECK(payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), bad, ctx2); }) ==
          errc::invalid_payload);
    // And binary arguments make the round trip.
    wire::payload sent{value::array({make_binary({0, 'A'})}), nullptr, std::nullopt};
    wire::payload event = p.publish(topic, sent);
    call_context ctx3;
    p.responder.decode(pk::event, topic, enc_details(), event, ctx3);
    CHECK(event.args == sent.args);
  }

  TEST_CASE("inner JSON read in place: duplicates, binary strings, reference-reader text") {
    pair_of_codecs p;
    // What the codec makes of one decrypted text: the error, or the args it delivers.
    auto decode = [&](std::string_view inner) -> std::pair<std::optional<errc>, value> {
      wire::payload data{nullptr, nullptr, seal(inner)};
      call_context ctx;
      const auto refused =
          payload_errc([&] { p.responder.decode(pk::event, topic, enc_details(), data, ctx); });
      return {refused, data.args};
    };
    // The last of duplicate keys counts, as when the whole text became a value.
    CHECK(
        decode(R"({"uri":"com.example.other","uri":"com.example.topic","args":[1],"args":[2]})") ==
        std::pair<std::optional<errc>, value>{std::nullopt, value::array({2})});
    CHECK(decode(R"({"uri":"com.example.topic","uri":"com.example.other","args":[1]})").first ==
          errc::uri_mismatch);
    // A NUL + Base64 string is binary, never a URI; bad Base64 anywhere in the text is refused,
    // also in a member the codec does not use.
    CHECK(decode(R"({"uri":"\u0000QQ==","args":[1]})").first == errc::invalid_payload);
    CHECK(decode(R"({"uri":"com.example.topic","args":[1],"x":"\u0000abc"})").first ==
          errc::invalid_payload);
    // Text simdjson leaves to the reference reader (a leading BOM, an integer beyond 64 bits)
    // is checked and delivered the same way.
    CHECK(decode("\xEF\xBB\xBF"
                 R"({"uri":"com.example.topic","args":[3]})") ==
          std::pair<std::optional<errc>, value>{std::nullopt, value::array({3})});
    CHECK(decode(R"({"uri":"com.example.topic","args":[4],"x":123456789012345678901234567890})") ==
          std::pair<std::optional<errc>, value>{std::nullopt, value::array({4})});
    CHECK(decode("\xEF\xBB\xBF"
                 R"({"uri":"com.example.other","args":[5]})")
              .first == errc::uri_mismatch);
    // The direct reader takes the usual shape and skips members it does not use; what it leaves
    // to the DOM (an escaped URI, a duplicate wbx, wbx members of other types) gives the same.
    CHECK(decode(R"({"x":[{"y":null}],"uri":"com.example.topic","args":[7],"kwargs":{"k":"\n"},)"
                 R"("wbx":{"t":"publish","z":1.5}})") ==
          std::pair<std::optional<errc>, value>{std::nullopt, value::array({7})});
    CHECK(decode(R"({"uri":"com.example.t\u006fpic","args":["\u00e9"]})") ==
          std::pair<std::optional<errc>, value>{std::nullopt, value::array({"\u00e9"})});
    CHECK(
        decode(
            R"({"uri":"com.example.topic","args":[8],"wbx":{"t":"call"},"wbx":{"t":"publish"}})") ==
        std::pair<std::optional<errc>, value>{std::nullopt, value::array({8})});
    CHECK(decode(R"({"uri":"com.example.topic","args":[9],"wbx":{"t":"publish","cid":7}})").first ==
          errc::invalid_payload);
    CHECK(decode(R"({"uri":"com.example.topic","args":[9],"wbx":{"t":1}})").first ==
          errc::binding_mismatch);
    // A timestamp beyond int64 reads as a negative one, far outside the window.
    CHECK(decode(R"({"uri":"com.example.topic","args":[6],"wbx":{"t":"publish",)"
                 R"("ts":18446744073709551615}})")
              .first == errc::replayed_payload);
  }
}
