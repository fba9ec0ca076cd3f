// secure_codec: the x_wampbox_v1 form, round trips, and the attack suite of issue 9 (every
// attack ends in its own refusal, never in delivery).
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>

#include "codec_test_util.hpp"
#include "secure_test_util.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;
using pk = payload_kind;

namespace {

const std::string topic = "com.example.topic";
const std::string proc = "com.example.proc";
const std::string error_uri = "com.example.error.failed";

/// A publisher and a (listed, non-publishing) subscriber of one group.
struct pubsub {
  secure_group g;
  std::unique_ptr<secure_codec> pub = g.codec("publisher");
  std::unique_ptr<secure_codec> sub = g.codec("subscriber");
  call_context ctx, rx;
};

/// A call from `caller` answered by `callee`: the CALL, and the contexts of both ends.
struct rpc {
  call_context caller_ctx, callee_ctx;
  sealed call;
};

rpc make_call(secure_codec& caller, secure_codec& callee, const std::string& procedure = proc) {
  rpc r;
  r.call = seal(caller, pk::call, procedure, r.caller_ctx);
  open(callee, pk::invocation, procedure, r.call, r.callee_ctx);
  return r;
}

/// Decodes a payload of bare bytes (a test's changed copy) with the envelope `options`.
void open_box(secure_codec& codec, payload_kind kind, const std::string& uri, const value& options,
              bytes box, call_context& call) {
  wire::payload data{nullptr, nullptr, std::move(box)};
  codec.decode(kind, uri, options, data, call);
}

}  // namespace

TEST_SUITE("codec.secure") {
  TEST_CASE("an event round-trips with its authenticated publisher; the envelope is x_wampbox_v1") {
    secure_group g;
    auto pub = g.codec("publisher");
    auto sub = g.codec("subscriber");
    call_context ctx;
    const sealed s = seal(*pub, pk::publish, topic, ctx);
    CHECK(s.options["enc_algo"] == "x_wampbox_v1");
    CHECK(s.options["enc_serializer"] == "msgpack");
    CHECK(s.options["enc_key"] == to_hex(group_key::from_base64(g.group_b64).id()));
    REQUIRE(s.data.opaque);
    CHECK(s.data.args.is_null());
    // 164 bytes of overhead around the MessagePack [args, kwargs]
    std::string inner = "\x92";
    wire::serialize(wire::serializer_kind::msgpack, sample_args().args, inner);
    wire::serialize(wire::serializer_kind::msgpack, sample_args().kwargs, inner);
    CHECK(s.data.opaque->size() == 164 + inner.size());

    call_context rx;
    const wire::payload got = open(*sub, pk::event, topic, s, rx);
    CHECK(got.args == sample_args().args);
    CHECK(got.kwargs == sample_args().kwargs);
    CHECK_FALSE(got.opaque);
    CHECK(rx.encrypted);
    REQUIRE(rx.sender);
    CHECK(rx.sender->name == "publisher");
    CHECK(rx.sender->public_key == g.identity("publisher").public_key_base64());
  }

  TEST_CASE("absent args and kwargs stay absent; strings beginning with U+0000 stay strings") {
    secure_group g;
    auto pub = g.codec("publisher");
    auto sub = g.codec("subscriber");
    call_context a, b;
    const sealed empty = seal(*pub, pk::publish, topic, a, wire::payload{});
    const wire::payload got = open(*sub, pk::event, topic, empty, b);
    CHECK(got.args.is_null());
    CHECK(got.kwargs.is_null());
    const std::string nul("\0text", 5);
    const sealed s = seal(*pub, pk::publish, topic, a, {value::array({nul}), nullptr, {}});
    CHECK(open(*sub, pk::event, topic, s, b).args[0] == nul);
  }

  TEST_CASE("RPC: call, progressive and final results, and an error, with both ends named") {
    secure_group g;
    auto caller = g.codec("caller");
    auto callee = g.codec("callee");
    rpc r = make_call(*caller, *callee);
    REQUIRE(r.callee_ctx.sender);
    CHECK(r.callee_ctx.sender->name == "caller");
    CHECK(r.callee_ctx.procedure == proc);

    const sealed progress = seal(*callee, pk::yield, proc, r.callee_ctx,
                                 {value::array({"partial"}), nullptr, {}}, {{"progress", true}});
    sealed progress_result = progress;
    progress_result.options["progress"] = true;
    CHECK(open(*caller, pk::result, proc, progress_result, r.caller_ctx).args[0] == "partial");
    REQUIRE(r.caller_ctx.sender);
    CHECK(r.caller_ctx.sender->name == "callee");

    const sealed final_answer = seal(*callee, pk::yield, proc, r.callee_ctx);
    CHECK(open(*caller, pk::result, proc, final_answer, r.caller_ctx).args == sample_args().args);

    rpc failing = make_call(*caller, *callee);
    const sealed err = seal(*callee, pk::call_error, error_uri, failing.callee_ctx);
    CHECK(open(*caller, pk::result_error, error_uri, err, failing.caller_ctx).kwargs ==
          sample_args().kwargs);
  }

  TEST_CASE("the router's own plaintext errors (wamp.*) pass; other plaintext is refused") {
    secure_group g;
    auto caller = g.codec("caller");
    auto callee = g.codec("callee");
    rpc r = make_call(*caller, *callee);
    wire::payload none;
    caller->decode(pk::result_error, "wamp.error.canceled", value::object(), none, r.caller_ctx);
    CHECK_FALSE(r.caller_ctx.sender);
    wire::payload plain{value::array({1}), nullptr, {}};
    CHECK(payload_errc([&] {
            caller->decode(pk::result_error, error_uri, value::object(), plain, r.caller_ctx);
          }) == errc::plaintext_refused);
    CHECK(payload_errc([&] {
            caller->decode(pk::result, proc, value::object(), plain, r.caller_ctx);
          }) == errc::plaintext_refused);
  }

  TEST_CASE("sending needs an identity, a valid key, and a call that arrived in secure mode") {
    secure_group g;
    secure_ring no_identity;
    no_identity.add_key(g.prefix, group_key::from_base64(g.group_b64));
    auto anonymous = g.codec(std::move(no_identity));
    call_context ctx;
    wire::payload data = sample_args();
    value options = value::object();
    CHECK(payload_errc([&] { anonymous->encode(pk::publish, topic, options, data, ctx); }) ==
          errc::encryption_required);
    CHECK(data.args == sample_args().args);  // unchanged
    CHECK(options == value::object());

    secure_ring only_future;
    only_future.set_identity("publisher", g.identity("publisher"));
    only_future.add_key(g.prefix, group_key::generate(), {start_ms + 60'000, {}});
    auto early = g.codec(std::move(only_future));
    CHECK(payload_errc([&] { early->encode(pk::publish, topic, options, data, ctx); }) ==
          errc::encryption_required);

    auto callee = g.codec("callee");
    call_context plain_invocation;  // no secure INVOCATION behind it
    CHECK(payload_errc([&] { callee->encode(pk::yield, proc, options, data, plain_invocation); }) ==
          errc::encryption_required);
  }

  TEST_CASE("attack: a key-holding subscriber cannot forge an event") {
    secure_group g;
    auto sub = g.codec("publisher");  // any receiver; the publisher's ring lists the same senders
    call_context ctx, rx;
    SUBCASE("as itself: listed, but not as a publisher") {
      auto subscriber = g.codec("subscriber");
      const sealed forged = seal(*subscriber, pk::publish, topic, ctx);
      CHECK(payload_errc([&] { open(*sub, pk::event, topic, forged, rx); }) ==
            errc::sender_not_allowed);
    }
    SUBCASE("as itself: not listed at all") {
      auto intruder = g.codec("intruder");
      const sealed forged = seal(*intruder, pk::publish, topic, ctx);
      CHECK(payload_errc([&] { open(*sub, pk::event, topic, forged, rx); }) ==
            errc::unknown_sender);
    }
    SUBCASE("in the publisher's name") {
      auto intruder = g.codec("intruder");
      sealed forged = seal(*intruder, pk::publish, topic, ctx);
      const short_id publisher_id = g.identity("publisher").sender_id();
      std::copy(publisher_id.begin(), publisher_id.end(), forged.data.opaque->begin() + 12);
      resign(*forged.data.opaque, g.identity("intruder"), topic);
      CHECK(payload_errc([&] { open(*sub, pk::event, topic, forged, rx); }) ==
            errc::signature_invalid);
    }
    CHECK_FALSE(rx.sender);
  }

  TEST_CASE_FIXTURE(pubsub, "attack: an event moved to another topic or procedure") {
    const sealed s = seal(*pub, pk::publish, topic, ctx);
    CHECK(payload_errc([&] { open(*sub, pk::event, "com.example.other", s, rx); }) ==
          errc::signature_invalid);
    CHECK(payload_errc([&] { open(*sub, pk::invocation, topic, s, rx); }) ==
          errc::binding_mismatch);
    CHECK(open(*sub, pk::event, topic, s, rx).args == sample_args().args);  // still deliverable
  }

  TEST_CASE("attack: a CALL reflected as its RESULT, and answers swapped between calls") {
    secure_group g;
    auto caller = g.codec("caller");
    auto callee = g.codec("callee");
    rpc first = make_call(*caller, *callee);
    rpc second = make_call(*caller, *callee);
    CHECK(payload_errc([&] { open(*caller, pk::result, proc, first.call, first.caller_ctx); }) ==
          errc::binding_mismatch);
    const sealed answer1 = seal(*callee, pk::yield, proc, first.callee_ctx);
    const sealed answer2 = seal(*callee, pk::yield, proc, second.callee_ctx);
    CHECK(payload_errc([&] { open(*caller, pk::result, proc, answer1, second.caller_ctx); }) ==
          errc::binding_mismatch);
    const sealed error1 = seal(*callee, pk::call_error, error_uri, first.callee_ctx);
    CHECK(payload_errc([&] {
            open(*caller, pk::result_error, error_uri, error1, second.caller_ctx);
          }) == errc::binding_mismatch);
    // an answer presented as an ERROR, and the other way round
    CHECK(payload_errc([&] {
            open(*caller, pk::result_error, error_uri, answer2, second.caller_ctx);
          }) == errc::binding_mismatch);
    CHECK(payload_errc([&] { open(*caller, pk::result, proc, error1, first.caller_ctx); }) ==
          errc::binding_mismatch);
    CHECK(open(*caller, pk::result, proc, answer2, second.caller_ctx).args == sample_args().args);
  }

  TEST_CASE_FIXTURE(pubsub, "attack: changed enc_* values") {
    const sealed s = seal(*pub, pk::publish, topic, ctx);
    auto changed = [&](const char* field, value v) {
      sealed c = s;
      if (v.is_null())
        c.options.erase(field);
      else
        c.options[field] = std::move(v);
      return payload_errc([&] { open(*sub, pk::event, topic, c, rx); });
    };
    CHECK(changed("enc_algo", "cryptobox") == errc::downgrade_refused);
    CHECK(changed("enc_algo", "x_wampbox_v2") == errc::unknown_encryption_algorithm);
    CHECK(changed("enc_algo", nullptr) == errc::plaintext_refused);
    CHECK(changed("enc_serializer", "json") == errc::unknown_encryption_serializer);
    CHECK(changed("enc_serializer", nullptr) == errc::unknown_encryption_serializer);
    CHECK(changed("enc_key", "0123456789abcdef") == errc::binding_mismatch);
    CHECK(changed("enc_key", "0123") == errc::invalid_payload);
    CHECK(changed("enc_key", nullptr) == errc::invalid_payload);
    CHECK(changed("enc_extra", "x") == errc::invalid_payload);
    CHECK_FALSE(rx.sender);
  }

  TEST_CASE("attack: a changed progress flag or error URI") {
    secure_group g;
    auto caller = g.codec("caller");
    auto callee = g.codec("callee");
    rpc r = make_call(*caller, *callee);
    const sealed progress = seal(*callee, pk::yield, proc, r.callee_ctx,
                                 {value::array({"partial"}), nullptr, {}}, {{"progress", true}});
    sealed as_final = progress;
    as_final.options.erase("progress");  // a router presenting a progressive result as final
    CHECK(payload_errc([&] { open(*caller, pk::result, proc, as_final, r.caller_ctx); }) ==
          errc::binding_mismatch);
    sealed final_answer = seal(*callee, pk::yield, proc, r.callee_ctx);
    final_answer.options["progress"] = true;  // ... and a final one as progressive
    CHECK(payload_errc([&] { open(*caller, pk::result, proc, final_answer, r.caller_ctx); }) ==
          errc::binding_mismatch);

    rpc failing = make_call(*caller, *callee);
    const sealed err = seal(*callee, pk::call_error, error_uri, failing.callee_ctx);
    CHECK(payload_errc([&] {
            open(*caller, pk::result_error, "com.example.error.other", err, failing.caller_ctx);
          }) == errc::signature_invalid);
  }

  TEST_CASE_FIXTURE(pubsub,
                    "attack: replayed, duplicated and reordered events (strict order by default)") {
    std::vector<sealed> events;
    for (int i = 0; i < 3; ++i) events.push_back(seal(*pub, pk::publish, topic, ctx));
    open(*sub, pk::event, topic, events[0], rx);
    CHECK(payload_errc([&] { open(*sub, pk::event, topic, events[0], rx); }) ==
          errc::replayed_payload);  // duplicate
    open(*sub, pk::event, topic, events[2], rx);
    CHECK(payload_errc([&] { open(*sub, pk::event, topic, events[1], rx); }) ==
          errc::replayed_payload);  // reordered
    g.now += 10'000;
    CHECK(payload_errc([&] { open(*sub, pk::event, topic, events[2], rx); }) ==
          errc::replayed_payload);  // replayed later, within the time window
  }

  TEST_CASE_FIXTURE(pubsub,
                    "one publication through overlapping subscriptions: opened again, right after") {
    const sealed first = seal(*pub, pk::publish, topic, ctx);
    const sealed second = seal(*pub, pk::publish, topic, ctx);
    auto deliver = [&](const sealed& event, wire::id publication) {
      call_context c;
      c.publication = publication;
      return payload_errc([&] { open(*sub, pk::event, topic, event, c); });
    };
    CHECK(deliver(first, 7) == std::nullopt);
    CHECK(deliver(first, 7) == std::nullopt);  // the same publication, another subscription
    CHECK(deliver(first, 8) == errc::replayed_payload);  // under another publication id
    CHECK(deliver(second, 9) == std::nullopt);
    CHECK(deliver(first, 7) == errc::replayed_payload);  // no longer the last event
    CHECK(deliver(second, 0) == errc::replayed_payload);  // publication id unknown
  }

  TEST_CASE("attack: reordering within and beyond a reorder window") {
    secure_group g;
    secure_options o = g.options();
    o.reorder_window = 4;
    auto pub = g.codec("publisher");
    secure_codec sub(g.ring("subscriber"), o);
    call_context ctx, rx;
    std::vector<sealed> events;
    for (int i = 0; i < 10; ++i) events.push_back(seal(*pub, pk::publish, topic, ctx));
    open(sub, pk::event, topic, events[0], rx);
    open(sub, pk::event, topic, events[2], rx);
    open(sub, pk::event, topic, events[1], rx);  // within the window: accepted once
    CHECK(payload_errc([&] { open(sub, pk::event, topic, events[1], rx); }) ==
          errc::replayed_payload);
    open(sub, pk::event, topic, events[9], rx);
    open(sub, pk::event, topic, events[6], rx);  // 3 behind
    CHECK(payload_errc([&] { open(sub, pk::event, topic, events[5], rx); }) ==
          errc::replayed_payload);  // 4 behind: beyond the window
    CHECK(payload_errc([&] { open(sub, pk::event, topic, events[3], rx); }) ==
          errc::replayed_payload);
  }

  TEST_CASE("attack: replays beyond the time window, and after the receiver reconnects") {
    secure_group g;
    auto pub = g.codec("publisher");
    call_context ctx, rx;
    const sealed old = seal(*pub, pk::publish, topic, ctx);
    auto sub = g.codec("subscriber");
    open(*sub, pk::event, topic, old, rx);
    // The codec outlives the session: after a reconnection the same instance still refuses.
    CHECK(payload_errc([&] { open(*sub, pk::event, topic, old, rx); }) == errc::replayed_payload);
    // A receiver that restarted has no replay state: the time window refuses what is old.
    g.now += 121'000;
    auto restarted = g.codec("subscriber");
    CHECK(payload_errc([&] { open(*restarted, pk::event, topic, old, rx); }) ==
          errc::replayed_payload);
    // ... and what comes from the future
    g.now -= 242'000;
    CHECK(payload_errc([&] { open(*restarted, pk::event, topic, old, rx); }) ==
          errc::replayed_payload);
  }

  TEST_CASE("a forgotten stream's replays are refused by the sender's watermark") {
    secure_group g;
    secure_options o = g.options();
    o.streams_per_sender = 1;
    secure_codec sub(g.ring("subscriber"), o);
    call_context ctx, rx;
    auto first_instance = g.codec("publisher");
    const sealed early = seal(*first_instance, pk::publish, topic, ctx);
    open(sub, pk::event, topic, early, rx);
    g.now += 1000;
    auto second_instance = g.codec("publisher");  // a restarted publisher: a new stream
    open(sub, pk::event, topic, seal(*second_instance, pk::publish, topic, ctx), rx);
    CHECK(payload_errc([&] { open(sub, pk::event, topic, early, rx); }) == errc::replayed_payload);
  }

  TEST_CASE("attack: a sender in the wrong role; keys and senders of another prefix") {
    secure_group g;
    auto pub = g.codec("publisher");
    auto callee = g.codec("callee");
    call_context ctx, rx;
    // the publisher calling: it is listed, but not as a caller
    const sealed call = seal(*pub, pk::call, proc, ctx);
    CHECK(payload_errc([&] { open(*callee, pk::invocation, proc, call, rx); }) ==
          errc::sender_not_allowed);
    // a ring whose prefix has another key: no_key
    secure_group other;
    auto stranger = other.codec("subscriber");
    const sealed s = seal(*pub, pk::publish, topic, ctx);
    CHECK(payload_errc([&] { open(*stranger, pk::event, topic, s, rx); }) == errc::no_key);
  }

  TEST_CASE("attack: a truncated payload, and every single-bit flip of a delivered one") {
    secure_group g;
    auto pub = g.codec("publisher");
    auto caller = g.codec("caller");
    auto callee = g.codec("callee");
    call_context ctx;
    const sealed event = seal(*pub, pk::publish, topic, ctx);
    rpc r = make_call(*caller, *callee);
    const sealed answer = seal(*callee, pk::yield, proc, r.callee_ctx);

    const bytes event_box = *event.data.opaque, answer_box = *answer.data.opaque;
    for (std::size_t len = 0; len < event_box.size(); ++len) {
      auto sub = g.codec("subscriber");
      call_context rx;
      CHECK(payload_errc([&] {
              open_box(*sub, pk::event, topic, event.options,
                       bytes(event_box.begin(), event_box.begin() + static_cast<long>(len)), rx);
            }) == (len < 164 ? errc::invalid_payload : errc::signature_invalid));
    }

    // What each header byte's flips end in; everything from the stream id on is signed.
    auto expected = [](std::size_t offset, int bit, bool result) {
      if (offset == 0 || offset == 3) return errc::invalid_payload;
      if (offset == 1) return errc::binding_mismatch;
      if (offset == 2) return result && bit == 0 ? errc::binding_mismatch : errc::invalid_payload;
      if (offset < 12) return errc::binding_mismatch;  // key id differs from enc_key
      if (offset < 20) return errc::unknown_sender;
      return errc::signature_invalid;
    };
    std::size_t flips = 0;
    auto sub = g.codec("subscriber");  // one receiver: nothing flipped may poison its state
    for (std::size_t offset = 0; offset < event_box.size(); ++offset) {
      for (int bit = 0; bit < 8; ++bit) {
        const auto mask = static_cast<std::uint8_t>(1u << bit);
        bytes e = event_box;
        e[offset] ^= mask;
        call_context rx;
        CHECK_MESSAGE(payload_errc([&] {
                        open_box(*sub, pk::event, topic, event.options, e, rx);
                      }) == expected(offset, bit, false),
                      "event byte " << offset << " bit " << bit);
        bytes a = answer_box;
        a[offset % a.size()] ^= mask;
        call_context caller_ctx = r.caller_ctx;
        CHECK_MESSAGE(payload_errc([&] {
                        open_box(*caller, pk::result, proc, answer.options, a, caller_ctx);
                      }) == expected(offset % a.size(), bit, true),
                      "answer byte " << offset << " bit " << bit);
        ++flips;
      }
    }
    CHECK(flips == 8 * event_box.size());
    call_context rx, caller_ctx = r.caller_ctx;
    CHECK(open(*sub, pk::event, topic, event, rx).args == sample_args().args);
    CHECK(open(*caller, pk::result, proc, answer, caller_ctx).args == sample_args().args);
  }

  TEST_CASE("downgrade: a secure prefix refuses cryptobox payloads and says so") {
    secure_group g;
    auto sub = g.codec("subscriber");
    cryptobox_codec old_publisher(originator_ring("com.example"));
    value options = value::object();
    wire::payload data = sample_args();
    call_context ctx, rx;
    old_publisher.encode(pk::publish, topic, options, data, ctx);
    std::string what;
    try {
      sub->decode(pk::event, topic, options, data, rx);
    } catch (const payload_error& e) {
      CHECK(e.code() == errc::downgrade_refused);
      CHECK(e.uri() == "wamp.error.encryption.downgrade_refused");
      what = e.what();
    }
    CHECK(what.find("cryptobox payload") != std::string::npos);
    CHECK(data.opaque);  // unchanged
  }

  TEST_CASE("rotation: zero lost or refused events across the switch; retired keys refused") {
    secure_group g;
    const std::string old_b64 = g.group_b64;
    const std::string new_b64 = group_key::generate().to_base64();
    const std::int64_t switch_at = start_ms + 5'000, retire_at = start_ms + 20'000;
    // every receiver learns the new key before any sender uses it, then the old one retires
    auto rotated = [&](const std::string& me, std::optional<std::int64_t> old_retires) {
      secure_ring r = g.ring(me);
      secure_ring fresh;
      fresh.set_identity(me, g.identity(me));
      fresh.add_key(g.prefix, group_key::from_base64(old_b64), {0, old_retires});
      fresh.add_key(g.prefix, group_key::from_base64(new_b64), {switch_at, {}});
      for (const auto& [id, s] : r.entry(g.prefix)->senders())
        fresh.trust_sender(g.prefix, s.name, s.public_key, s.roles);
      return fresh;
    };
    auto pub = g.codec(rotated("publisher", std::nullopt));
    auto sub = g.codec(rotated("subscriber", retire_at));
    auto stale_pub = g.codec("publisher");  // never learned of the rotation
    call_context ctx, rx;
    std::set<std::string> key_ids;
    int delivered = 0;
    for (int second = 0; second < 10; ++second, g.now += 1'000) {
      const sealed s = seal(*pub, pk::publish, topic, ctx);
      key_ids.insert(s.options["enc_key"].get<std::string>());
      CHECK(open(*sub, pk::event, topic, s, rx).args == sample_args().args);
      ++delivered;
    }
    CHECK(delivered == 10);
    CHECK(key_ids == std::set<std::string>{to_hex(group_key::from_base64(old_b64).id()),
                                           to_hex(group_key::from_base64(new_b64).id())});
    // before retirement the old key still opens; after it, it is refused
    CHECK(open(*sub, pk::event, topic, seal(*stale_pub, pk::publish, topic, ctx), rx).args ==
          sample_args().args);
    g.now = retire_at;
    const sealed late = seal(*stale_pub, pk::publish, topic, ctx);
    CHECK(payload_errc([&] { open(*sub, pk::event, topic, late, rx); }) == errc::key_retired);
  }

  TEST_CASE("cryptobox prefixes of the same ring behave exactly as cryptobox_codec") {
    secure_ring ring(originator_ring("com.interop."));
    secure_group g;
    ring.add_key(g.prefix, group_key::from_base64(g.group_b64));
    ring.set_identity("publisher", g.identity("publisher"));
    secure_options o;
    o.cryptobox = autobahn_identical(0);
    secure_codec codec(std::move(ring), o);
    cryptobox_codec reference(originator_ring("com.interop."), autobahn_identical(0));
    value options = value::object(), ref_options = value::object();
    wire::payload data = sample_args(), ref_data = sample_args();
    call_context ctx, ref_ctx;
    codec.encode(pk::publish, "com.interop.topic", options, data, ctx);
    reference.encode(pk::publish, "com.interop.topic", ref_options, ref_data, ref_ctx);
    CHECK(options == ref_options);
    CHECK(data == ref_data);
    // and the secure prefix beside it is secure
    codec.encode(pk::publish, topic, options, data = sample_args(), ctx);
    CHECK(options["enc_algo"] == "x_wampbox_v1");
    // URIs of neither mode stay plaintext
    wire::payload plain = sample_args();
    value plain_options = value::object();
    codec.encode(pk::publish, "org.other.topic", plain_options, plain, ctx);
    CHECK(plain == sample_args());
  }
}
