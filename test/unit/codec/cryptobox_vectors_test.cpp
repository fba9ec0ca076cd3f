// Byte-exact Autobahn|Python vectors: codec + wire serializers produce the PUBLISH/CALL/YIELD/ERROR
// of test/data/cryptobox/cryptobox_vectors.out.txt and decode its EVENT/INVOCATION/RESULT/ERROR, in
// JSON, MessagePack and CBOR. The §1.5 PUBLISH is kept inline so the test never passes on nothing.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wire/serializer.hpp>

#include "../test_data.hpp"
#include "codec_test_util.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;
using wire::serializer_kind;
using pk = payload_kind;

namespace {

constexpr serializer_kind all_serializers[] = {serializer_kind::json, serializer_kind::msgpack,
                                               serializer_kind::cbor};

std::string as_string(const bytes& b) { return {b.begin(), b.end()}; }

/// The json/msgpack/cbor bytes of one message section of the vectors file.
using encodings = std::map<serializer_kind, std::string>;

/// Reads the first run of the vectors file: section title ("## PUBLISH ...") -> encodings.
std::map<std::string, encodings> read_vector_sections(const std::filesystem::path& path) {
  std::map<std::string, encodings> sections;
  std::ifstream in(path);
  std::string title;
  int runs = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# versions") && ++runs > 1) break;  // the file holds two identical runs
    if (line.starts_with("## ")) {
      title = line.substr(3);
      continue;
    }
    const auto at = line.find(" hex: ");
    if (at == std::string::npos || title.empty()) continue;
    const std::string head = line.substr(line.find_first_not_of(' '));
    const std::string data = as_string(from_hex(line.substr(at + 6)));
    if (head.starts_with("json hex:")) sections[title][serializer_kind::json] = data;
    if (head.starts_with("msgpack (")) sections[title][serializer_kind::msgpack] = data;
    if (head.starts_with("cbor (")) sections[title][serializer_kind::cbor] = data;
  }
  return sections;
}

/// The section whose title starts with `prefix` (REQUIREs exactly one).
const encodings& section(const std::map<std::string, encodings>& all, std::string_view prefix) {
  const encodings* found = nullptr;
  for (const auto& [title, enc] : all) {
    if (title.starts_with(prefix)) {
      REQUIRE_MESSAGE(found == nullptr, "two sections start with " << prefix);
      found = &enc;
    }
  }
  REQUIRE_MESSAGE(found != nullptr, "no section starts with " << prefix);
  REQUIRE(found->size() == 3);
  return *found;
}

wire::payload vector_args() {
  return {value::array({1, "two", {{"three", 3.0}}}), {{"k", "v"}}, std::nullopt};
}

/// Encodes the vector messages as the originator/responder would send them.
std::map<std::string, wire::message> our_outgoing_messages() {
  std::map<std::string, wire::message> out;
  auto encode = [](key_ring ring, unsigned char nonce, pk kind, const std::string& uri,
                   wire::payload data, bool encrypted_call) {
    cryptobox_codec c(std::move(ring), autobahn_identical(nonce));
    value options = value::object();
    call_context ctx{encrypted_call, {}};
    c.encode(kind, uri, options, data, ctx);
    return std::pair{options, data};
  };
  {
    auto [o, d] =
        encode(originator_ring(), 0x00, pk::publish, "com.example.topic", vector_args(), false);
    out["PUBLISH"] = wire::publish_message{1, o, "com.example.topic", d};
  }
  {
    auto [o, d] =
        encode(originator_ring(), 0x30, pk::call, "com.example.proc", vector_args(), false);
    out["CALL"] = wire::call_message{2, o, "com.example.proc", d};
  }
  {
    auto [o, d] = encode(responder_ring(), 0x60, pk::yield, "com.example.proc",
                         {value::array({42}), nullptr, std::nullopt}, true);
    out["YIELD"] = wire::yield_message{7001, o, d};
  }
  {
    auto [o, d] = encode(responder_ring(), 0x90, pk::call_error, "com.example.error.invalid",
                         {value::array({"bad"}), {{"code", 7}}, std::nullopt}, true);
    out["ERROR (callee"] = wire::error_message{wire::message_type::invocation, 7001, o,
                                               "com.example.error.invalid", d};
  }
  return out;
}

}  // namespace

TEST_SUITE("codec.vectors") {
  TEST_CASE("§1.5 PUBLISH (inline constants): codec + serializer give Autobahn's bytes") {
    const std::string json =
        R"([16,1,{"enc_algo":"cryptobox","enc_serializer":"json"},"com.example.topic","\u0000AAECAwQFBgcICQoLDA0ODxAREhMUFRYXqjFnpUJOE6BTOs5sPhfZU2nXriszH0fwmp0sLZo6cNAFZnEoF9zfXI24Z7rDJmowC3ZsAghNMCaRt1KnZSRZySwaS2ENlnztxURmGNADlSm6uYUGYaPipWnLE8GH"])";
    const std::string payload =
        "000102030405060708090a0b0c0d0e0f1011121314151617aa3167a5424e13a0533ace6c3e17d95369d7ae2b33"
        "1f47"
        "f09a9d2c2d9a3a70d00566712817dcdf5c8db867bac3266a300b766c02084d302691b752a7652459c92c1a4b61"
        "0d96"
        "7cedc5446618d0039529bab9850661a3e2a569cb13c187";
    const std::string msgpack =
        "95100182a8656e635f616c676fa963727970746f626f78ae656e635f73657269616c697a6572a46a736f6eb163"
        "6f6d"
        "2e6578616d706c652e746f706963c475" +
        payload;
    const std::string cbor =
        "851001a268656e635f616c676f6963727970746f626f786e656e635f73657269616c697a6572646a736f6e7163"
        "6f6d"
        "2e6578616d706c652e746f7069635875" +
        payload;
    const wire::message m = our_outgoing_messages().at("PUBLISH");
    CHECK(wire::serialize_message(serializer_kind::json, m) == json);
    // The whole output, whatever its size: a shorter or longer one differs from the vector.
    const std::string ours_msgpack = wire::serialize_message(serializer_kind::msgpack, m);
    const std::string ours_cbor = wire::serialize_message(serializer_kind::cbor, m);
    CHECK(hex(ours_msgpack.data(), ours_msgpack.size()) == msgpack);
    CHECK(hex(ours_cbor.data(), ours_cbor.size()) == cbor);
    CHECK(ours_msgpack.size() == 180);
    CHECK(ours_cbor.size() == 180);
  }

  TEST_CASE("vectors file: PUBLISH, CALL, YIELD, ERROR byte for byte in all serializers") {
    const auto path = test_data::cryptobox_vectors();
    const auto sections = read_vector_sections(path);
    int exact = 0;
    for (const auto& [name, m] : our_outgoing_messages()) {
      const encodings& expected = section(sections, name);
      for (serializer_kind s : all_serializers) {
        CAPTURE(name);
        CAPTURE(wire::serializer_name(s));
        const std::string ours = wire::serialize_message(s, m);
        CHECK(hex(ours.data(), ours.size()) == hex(expected.at(s).data(), expected.at(s).size()));
        ++exact;
      }
    }
    CHECK(exact == 12);
  }

  TEST_CASE("vectors file: EVENT, INVOCATION, RESULT, ERROR decode in all serializers") {
    const auto path = test_data::cryptobox_vectors();
    const auto sections = read_vector_sections(path);
    const value call_args = value::array({1, "two", {{"three", 3.0}}});
    const value call_kwargs = {{"k", "v"}};
    int decoded = 0;
    for (serializer_kind s : all_serializers) {
      CAPTURE(wire::serializer_name(s));
      for (const char* name : {"EVENT as Crossbar", "EVENT for a prefix"}) {
        CAPTURE(name);
        auto ev =
            std::get<wire::event_message>(wire::parse_message(s, section(sections, name).at(s)));
        const std::string topic = ev.details.value("topic", std::string("com.example.topic"));
        cryptobox_codec sub(responder_ring());
        call_context ctx;
        sub.decode(pk::event, topic, ev.details, ev.data, ctx);
        CHECK(ev.data.args == call_args);
        CHECK(ev.data.kwargs == call_kwargs);
        CHECK_FALSE(ev.data.opaque);
        ++decoded;
      }
      {
        auto inv = std::get<wire::invocation_message>(
            wire::parse_message(s, section(sections, "INVOCATION").at(s)));
        cryptobox_codec callee(responder_ring());
        call_context ctx;
        callee.decode(pk::invocation, "com.example.proc", inv.details, inv.data, ctx);
        CHECK(inv.data.args == call_args);
        CHECK(inv.data.kwargs == call_kwargs);
        CHECK(ctx.encrypted);
        CHECK(ctx.binding.empty());  // Autobahn sends no call id
        ++decoded;
      }
      {
        auto res = std::get<wire::result_message>(
            wire::parse_message(s, section(sections, "RESULT").at(s)));
        cryptobox_codec caller(originator_ring());
        call_context ctx{true,
                         "0123456789abcdef0123456789abcdef"};  // our call id: Autobahn echoes none
        caller.decode(pk::result, "com.example.proc", res.details, res.data, ctx);
        CHECK(res.data.args == value::array({42}));
        CHECK(res.data.kwargs.is_null());
        ++decoded;
      }
      {
        auto err = std::get<wire::error_message>(
            wire::parse_message(s, section(sections, "ERROR as forwarded").at(s)));
        cryptobox_codec caller(originator_ring());
        call_context ctx{true, {}};
        caller.decode(pk::result_error, err.error, err.details, err.data, ctx);
        CHECK(err.error == "com.example.error.invalid");
        CHECK(err.data.args == value::array({"bad"}));
        CHECK(err.data.kwargs == value{{"code", 7}});
        ++decoded;
      }
    }
    CHECK(decoded == 15);
  }
}
