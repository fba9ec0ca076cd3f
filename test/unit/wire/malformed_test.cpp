// Hostile bytes for all three serializers: each yields protocol_error with the right errc,
// never a crash, a hang, a huge allocation, or another exception type.
#include <cstdint>
#include <wampbox/wire/serializer.hpp>

#include "../allocation_probe.hpp"
#include "wire_test_util.hpp"

using namespace wampbox;
using namespace wampbox::wire;
using wampbox::wire::test::from_hex;
using wampbox::wire::test::protocol_errc;

namespace {

constexpr serializer_kind all_kinds[] = {serializer_kind::json, serializer_kind::msgpack,
                                         serializer_kind::cbor};

// A valid message with dicts, args, kwargs and a binary, serialized per format.
std::string valid_bytes(serializer_kind s) {
  return serialize_message(s,
                           event_message{5,
                                         6,
                                         {{"topic", "com.t"}, {"publisher", 7}},
                                         {.args = value::array({1, "é", 2.5, make_binary({1, 2})}),
                                          .kwargs = {{"k", nullptr}}}});
}

errc parse_errc(serializer_kind s, const std::string& bytes) {
  return protocol_errc([&] { parse_message(s, bytes); });
}

}  // namespace

TEST_CASE("malformed: every truncation of a valid message") {
  for (auto s : all_kinds) {
    CAPTURE(serializer_name(s));
    const std::string full = valid_bytes(s);
    REQUIRE_NOTHROW(parse_message(s, full));
    for (std::size_t n = 0; n < full.size(); ++n) {
      CAPTURE(n);
      CHECK(parse_errc(s, full.substr(0, n)) == errc::malformed_message);
    }
  }
}

TEST_CASE("malformed: trailing bytes after the value") {
  for (auto s : all_kinds) {
    CAPTURE(serializer_name(s));
    for (const std::string& tail : {std::string(1, '\0'), std::string("x"), valid_bytes(s)})
      CHECK(parse_errc(s, valid_bytes(s) + tail) == errc::malformed_message);
  }
}

TEST_CASE("malformed: not an array, empty array, unknown code, wrong field types") {
  struct bad {
    const char* json;
    errc code;
  };
  const bad cases[] = {
      {"{}", errc::invalid_message},
      {"16", errc::invalid_message},
      {"\"PUBLISH\"", errc::invalid_message},
      {"[]", errc::invalid_message},
      {"[\"16\",1,{},\"t\"]", errc::invalid_message},
      {"[99,1]", errc::unknown_message_type},
      {"[36,1,2,[],[]]", errc::invalid_message},
      {"[36,1,2,{},{}]", errc::invalid_message},
      {"[36,1,2,{},[],[]]", errc::invalid_message},
      {"[16,1,{},\"t\",\"plain string payload\"]", errc::invalid_message},
      {"[33,1]", errc::invalid_message},
      {"[33,1,9007199254740993]", errc::invalid_message},
      {"[33,1,-1]", errc::invalid_message},
      {"[33,1,1.0]", errc::invalid_message},
  };
  for (const auto& c : cases) {
    const value v = read_json(c.json);
    for (auto s : all_kinds) {
      CAPTURE(c.json);
      CAPTURE(serializer_name(s));
      std::string bytes;
      serialize(s, v, bytes);
      CHECK(parse_errc(s, bytes) == c.code);
    }
  }
}

TEST_CASE("malformed: invalid UTF-8") {
  CHECK(parse_errc(serializer_kind::json, "[6,{},\"\xff\xfe\"]") == errc::malformed_message);
  CHECK(parse_errc(serializer_kind::json, "[6,{\"\xc0\x80\":1},\"r\"]") == errc::malformed_message);
  // GOODBYE [6, {}, "\xff\xfe"] and [6, {"\xed\xa0\x80": 1}, "r"] written by hand.
  CHECK(parse_errc(serializer_kind::msgpack, from_hex("930680a2fffe")) == errc::malformed_message);
  CHECK(parse_errc(serializer_kind::msgpack, from_hex("930681a3eda08001a172")) ==
        errc::malformed_message);
  CHECK(parse_errc(serializer_kind::cbor, from_hex("8306a062fffe")) == errc::malformed_message);
  CHECK(parse_errc(serializer_kind::cbor, from_hex("8306a163eda0800161 72")) ==
        errc::malformed_message);
  // And the valid counterparts parse.
  CHECK_NOTHROW(parse_message(serializer_kind::msgpack, from_hex("930680a2c3a9")));
  CHECK_NOTHROW(parse_message(serializer_kind::cbor, from_hex("8306a062c3a9")));
  // Writing invalid UTF-8 is refused for every format.
  for (auto s : all_kinds)
    CHECK(protocol_errc([&] {
            serialize_message(s, goodbye_message{{}, "\xff"});
          }) == errc::invalid_message);
}

TEST_CASE("malformed: bad Base64 after \\u0000") {
  for (const char* text :
       {R"([36,1,2,{},"\u0000AQI"])", R"([36,1,2,{},"\u0000A!==")", R"([36,1,2,{},"\u0000AQ==="])",
        R"([36,1,2,{},"\u0000 AQID"])", R"([36,1,2,{},["\u0000====="]])"}) {
    CAPTURE(text);
    CHECK(parse_errc(serializer_kind::json, text) == errc::malformed_message);
  }
}

TEST_CASE("malformed: MessagePack ext types and CBOR tags are refused") {
  // [36,1,2,{},<fixext1 type 1>] and [36,1,2,{},<ext8 len 2 type 5>]
  CHECK(parse_errc(serializer_kind::msgpack, from_hex("95240102 80d40100")) ==
        errc::malformed_message);
  CHECK(parse_errc(serializer_kind::msgpack, from_hex("95240102 80c7020501 02")) ==
        errc::malformed_message);
  // [36,1,2,{},tag(2, h'01')] (bignum) and a self-describe tag on the whole array
  CHECK(parse_errc(serializer_kind::cbor, from_hex("8518240102a0c24101")) ==
        errc::malformed_message);
  CHECK(parse_errc(serializer_kind::cbor, from_hex("d9d9f78306a0617 2")) ==
        errc::malformed_message);
}

TEST_CASE("malformed: huge length prefixes do not allocate or crash") {
  const char* msgpack_cases[] = {
      "ddffffffff",          // array32 of 4G elements
      "dfffffffff",          // map32 of 4G pairs
      "91dbffffffff61",      // [str32 of 4G bytes, 1 byte present]
      "91c6ffffffff01",      // [bin32 of 4G bytes]
      "9306 80 dbffffffff",  // GOODBYE with a 4G reason
  };
  const char* cbor_cases[] = {
      "9bffffffffffffffff",      // array of 2^64-1 elements
      "bbffffffffffffffff",      // map of 2^64-1 pairs
      "817bffffffffffffffff61",  // [text of 2^64-1 bytes]
      "815b00000000ffffffff01",  // [bytes of 4G]
      "9a7fffffff",              // array of 2G elements
  };
  // A lying length must be refused before anything is reserved for it: everything a parse of
  // these few bytes may request together stays far below the smallest lie (2 GiB).
  constexpr std::size_t budget = 64 * 1024;
  auto check = [&](serializer_kind s, const char* hex) {
    CAPTURE(hex);
    const std::string bytes = from_hex(hex);
    errc code{};
    std::size_t total = 0, largest = 0;
    {
      wampbox::test::allocation_probe probe;
      code = parse_errc(s, bytes);
      total = probe.total();
      largest = probe.largest();
    }
    CHECK(code == errc::malformed_message);
    CHECK(largest <= budget);
    CHECK(total <= budget);
  };
  for (const char* hex : msgpack_cases) check(serializer_kind::msgpack, hex);
  for (const char* hex : cbor_cases) check(serializer_kind::cbor, hex);

  // Positive control: the probe does see a parse that allocates (a 1 MiB binary).
  std::size_t largest = 0;
  {
    const std::string big = serialize_message(
        serializer_kind::msgpack,
        event_message{
            5, 6, value::object(), {.args = value::array({make_binary(bytes(1 << 20, 7))})}});
    wampbox::test::allocation_probe probe;
    (void)parse_message(serializer_kind::msgpack, big);
    largest = probe.largest();
  }
  CHECK(largest >= std::size_t{1} << 20);
}

TEST_CASE("malformed: too-deep nesting in every format") {
  const std::size_t depths[] = {129, 100000};
  for (std::size_t depth : depths) {
    CAPTURE(depth);
    CHECK(parse_errc(serializer_kind::json, std::string(depth, '[') + std::string(depth, ']')) ==
          errc::malformed_message);
    CHECK(parse_errc(serializer_kind::msgpack, std::string(depth, '\x91') + '\x01') ==
          errc::malformed_message);
    CHECK(parse_errc(serializer_kind::cbor, std::string(depth, '\x81') + '\x01') ==
          errc::malformed_message);
    CHECK(parse_errc(serializer_kind::cbor, std::string(depth, '\x9f')) ==
          errc::malformed_message);  // indefinite
  }
  // 128 levels are accepted by the reader (the message itself is then invalid: no code).
  CHECK(parse_errc(serializer_kind::msgpack, std::string(128, '\x91') + '\x01') ==
        errc::invalid_message);
}

TEST_CASE("malformed: random mutations never escape as anything but protocol_error") {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;  // fixed seed: reproducible
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int rejected = 0, accepted = 0;
  for (auto s : all_kinds) {
    const std::string base = valid_bytes(s);
    for (int i = 0; i < 5000; ++i) {
      std::string bytes = base;
      for (int edits = 1 + static_cast<int>(next() % 4); edits > 0; --edits) {
        const std::size_t at = next() % bytes.size();
        switch (next() % 3) {
          case 0: bytes[at] = static_cast<char>(next()); break;
          case 1: bytes.erase(at, 1 + next() % 3); break;
          default: bytes.insert(at, 1, static_cast<char>(next())); break;
        }
        if (bytes.empty()) bytes = "x";
      }
      try {
        // An accepted mutant must be a real message: written out and read back, it is written
        // out the same (bytes, not values, so that a NaN compares equal to itself).
        const std::string written = serialize_message(s, parse_message(s, bytes));
        CHECK(serialize_message(s, parse_message(s, written)) == written);
        ++accepted;
      } catch (const protocol_error&) {
        ++rejected;
      } catch (const std::exception& e) {
        FAIL("non-protocol_error exception: " << e.what());
      } catch (...) {
        FAIL("an exception that is not even a std::exception");
      }
    }
  }
  // Each format saw all its mutants (5000 each), and most mutants are invalid.
  CHECK(rejected + accepted == 3 * 5000);
  CHECK(rejected > accepted);
  MESSAGE("mutations: " << rejected << " rejected, " << accepted << " still valid");
}
