// write_json / read_json: byte equality with Python's json.dumps as Autobahn uses it,
// Autobahn's binary convention, and rejection of bad input.
#include <cmath>
#include <cstdio>
#include <limits>
#include <wampbox/wire/serializer.hpp>

#include "wire_test_util.hpp"

using namespace wampbox;
using namespace wampbox::wire;
using wampbox::wire::test::protocol_errc;

namespace {

std::string dump(const value& v) {
  std::string out;
  write_json(v, out);
  return out;
}

}  // namespace

TEST_CASE("write_json: floats like Python repr") {
  // Expected strings from /usr/bin/python3: json.dumps(v, separators=(',',':'), ensure_ascii=False)
  const std::pair<double, const char*> table[] = {
      {3.0, "3.0"},
      {0.1, "0.1"},
      {1e-05, "1e-05"},
      {1e16, "1e+16"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1e15, "1000000000000000.0"},
      {123456789.125, "123456789.125"},
      {0.0001, "0.0001"},
      {1.5e-07, "1.5e-07"},
      {1e100, "1e+100"},
      {-2.5e-300, "-2.5e-300"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {9007199254740992.0, "9007199254740992.0"},
      {1234567890123456.7, "1234567890123456.8"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {0.30000000000000004, "0.30000000000000004"},
      {100.0, "100.0"},
      {1e22, "1e+22"},
      {9999999999999998.0, "9999999999999998.0"},
      {-1.0, "-1.0"},
  };
  for (const auto& [d, expected] : table) {
    CAPTURE(expected);
    CHECK(dump(value(d)) == expected);
    CHECK(read_json(expected).get<double>() == d);
  }
}

TEST_CASE("write_json: NaN and infinity are refused and leave the output untouched") {
  for (double d :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    std::string out = "prefix";
    CHECK(protocol_errc([&] { write_json(value::array({1, d}), out); }) == errc::invalid_message);
    CHECK(out == "prefix");
  }
}

TEST_CASE("write_json: strings, integers, containers like Python") {
  CHECK(dump("a\"b\\c\b\f\n\r\t" + std::string(1, '\0') + "\x01\x1f\x7f é € 😀 \u2028") ==
        "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7f é € 😀 \u2028\"");
  CHECK(dump(value::parse(R"({"b":[1,{"x":[]},{}],"a":null,"c":true,"d":false})")) ==
        R"({"a":null,"b":[1,{"x":[]},{}],"c":true,"d":false})");  // nlohmann sorts keys
  CHECK(dump(value::array({std::numeric_limits<std::uint64_t>::max(),
                           std::numeric_limits<std::int64_t>::min(), 0, -1})) ==
        "[18446744073709551615,-9223372036854775808,0,-1]");
  CHECK(dump(value::array()) == "[]");
  CHECK(dump(value::object()) == "{}");
  CHECK(dump(value::object({{"k\n", "v"}})) == "{\"k\\n\":\"v\"}");
  CHECK(dump(nullptr) == "null");
}

TEST_CASE("write_json: every ASCII byte at every position of the 8-byte fast path") {
  // Python's escapes: named ones, other control characters as \u00xx (lowercase hex).
  auto python_escape = [](char c) -> std::string {
    switch (c) {
      case '"': return "\\\"";
      case '\\': return "\\\\";
      case '\b': return "\\b";
      case '\f': return "\\f";
      case '\n': return "\\n";
      case '\r': return "\\r";
      case '\t': return "\\t";
      default: break;
    }
    if (static_cast<unsigned char>(c) >= 0x20) return std::string(1, c);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
    return buf;
  };
  for (int c = 0; c < 0x80; ++c)
    for (std::size_t at = 0; at < 17; ++at) {
      std::string s(17, 'a');
      s[at] = static_cast<char>(c);
      CAPTURE(c);
      CAPTURE(at);
      if (c == 0 && at == 0) {  // the U+0000 rule (tested below)
        CHECK(protocol_errc([&] { dump(s); }) == errc::invalid_message);
        continue;
      }
      CHECK(dump(s) ==
            "\"" + s.substr(0, at) + python_escape(static_cast<char>(c)) + s.substr(at + 1) + "\"");
    }
  std::string mixed(17, 'a');
  mixed[9] = '\xc3';  // a 2-byte sequence straddling the word boundary at 8
  mixed[10] = '\xa9';
  CHECK(dump(mixed) == "\"" + mixed + "\"");
  mixed[10] = 'a';  // truncated sequence
  CHECK(protocol_errc([&] { dump(mixed); }) == errc::invalid_message);
}

TEST_CASE("write_json: binary as \\u0000 + Base64") {
  CHECK(dump(make_binary({})) == "\"\\u0000\"");
  CHECK(dump(make_binary({0xff})) == "\"\\u0000/w==\"");
  CHECK(dump(make_binary({0x00, 0x01})) == "\"\\u0000AAE=\"");
  CHECK(dump(make_binary({0xfb, 0xff, 0xbf})) == "\"\\u0000+/+/\"");
  CHECK(dump(value::array({make_binary({1, 2, 3, 4})})) == "[\"\\u0000AQIDBA==\"]");
  for (std::size_t n = 0; n <= 64; ++n) {  // every padding case
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 73 + n * 11);
    const std::string text = dump(make_binary(b));
    CHECK(text.size() == 8 + (n + 2) / 3 * 4);
    CHECK(read_json(text) == make_binary(b));
  }
}

TEST_CASE("write_json: invalid UTF-8 and excessive nesting are refused") {
  for (std::string bad :
       {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xe2\x82", "\x80"}) {
    CAPTURE(bad);
    CHECK(protocol_errc([&] { dump(value(bad)); }) == errc::invalid_message);
    CHECK(protocol_errc([&] { dump(value::object({{bad, 1}})); }) == errc::invalid_message);
  }
  value deep = value::array();
  for (int i = 0; i < 127; ++i) deep = value::array({std::move(deep)});
  CHECK(dump(deep).size() == 256);  // 128 levels are fine
  deep = value::array({std::move(deep)});
  CHECK(protocol_errc([&] { dump(deep); }) == errc::invalid_message);
}

TEST_CASE("read_json: binary strings and round trip") {
  const value v = read_json(R"([1,"\u0000AQIDBA==","\u0000",{"\u0000k":"\u0000/w=="},"x\u0000"])");
  CHECK(v[1] == make_binary({1, 2, 3, 4}));
  CHECK(v[2] == make_binary({}));
  CHECK(v[3].at(std::string("\0k", 2)) == make_binary({0xff}));  // keys stay strings
  CHECK(v[4] == std::string("x\0", 2));                          // only a leading NUL marks binary
  const std::string text = R"([1,"\u0000AQIDBA==","\u0000",{"\u0000k":"\u0000/w=="},"x\u0000"])";
  CHECK(dump(v) == text);
  CHECK(read_json(" [1 , 2.5e0 ,\"é\"] \n") == value::array({1, 2.5, "é"}));
}

TEST_CASE("read_json: malformed input") {
  const char* cases[] = {
      "",                       // empty
      "[1,2",                   // truncated
      "[1,2]x",                 // trailing garbage
      "[1,2] [3]",              // two values
      "[\"\xff\"]",             // invalid UTF-8
      "[\"\xed\xa0\x80\"]",     // encoded surrogate
      "[\"\\ud800\"]",          // lone surrogate escape
      "[\"\\u0000AQID*A==\"]",  // bad Base64 character
      "[\"\\u0000AQI\"]",       // bad Base64 length
      "[\"\\u0000AQ==AQ==\"]",  // data after padding
      "[NaN]",                  // not JSON
      "[01]",                   // leading zero
      "{\"a\":1,}",             // trailing comma
      "[1,/*c*/2]",             // comments
  };
  for (const std::string& text :
       {std::string("[1]\0", 4), std::string("[1]\0garbage", 11), std::string("[\"a\0b\"]", 7)}) {
    CHECK(protocol_errc([&] { read_json(text); }) == errc::malformed_message);  // raw NUL byte
  }
  for (const char* text : cases) {
    CAPTURE(text);
    CHECK(protocol_errc([&] { read_json(text); }) == errc::malformed_message);
  }
}

TEST_CASE("read_json: nesting limit") {
  auto nested = [](int levels, char open, char close) {
    return std::string(static_cast<std::size_t>(levels), open) +
           std::string(static_cast<std::size_t>(levels), close);
  };
  CHECK(read_json(nested(128, '[', ']')).is_array());
  CHECK(protocol_errc([&] { read_json(nested(129, '[', ']')); }) == errc::malformed_message);
  CHECK(protocol_errc([&] { read_json(nested(100000, '[', ']')); }) == errc::malformed_message);
  std::string objects;
  for (int i = 0; i < 129; ++i) objects += "{\"a\":";
  objects += "1" + std::string(129, '}');
  CHECK(protocol_errc([&] { read_json(objects); }) == errc::malformed_message);
}

TEST_CASE("U+0000 rule: in JSON a string value beginning with U+0000 is binary, both ways") {
  // Reading follows Autobahn: "\u0000" + standard Base64 is binary; anything else after it is
  // malformed.
  CHECK(read_json(R"(["\u0000QQ=="])") == value::array({make_binary({'A'})}));
  CHECK(protocol_errc([] { read_json(R"(["\u0000abc"])"); }) == errc::malformed_message);
  // Writing refuses a text string that would come back as binary or not at all.
  for (const std::string& text :
       {std::string("\0abc", 4), std::string("\0QQ==", 5), std::string(1, '\0')}) {
    CAPTURE(text.size());
    std::string out = "prefix";
    CHECK(protocol_errc([&] {
            write_json(value::array({1, text}), out);
          }) == errc::invalid_message);
    CHECK(out == "prefix");
    CHECK(protocol_errc([&] {
            write_json(value::object({{"k", text}}), out);
          }) == errc::invalid_message);
    // MessagePack and CBOR have distinct string and binary types: they carry it as text.
    for (serializer_kind k : {serializer_kind::msgpack, serializer_kind::cbor}) {
      std::string bytes;
      serialize(k, value::array({text}), bytes);
      CHECK(deserialize(k, bytes) == value::array({text}));
    }
  }
  // Keys are never binary: a key beginning with U+0000 is written and read as text.
  const value keyed = value::object({{std::string("\0k", 2), 1}});
  CHECK(read_json(dump(keyed)) == keyed);
}

TEST_CASE("U+0000 rule: a message with such a string cannot be sent as JSON") {
  publish_message m;
  m.request = 1;
  m.topic = "com.example.t";
  m.data.args = value::array({std::string("\0QQ==", 5)});
  CHECK(protocol_errc([&] { serialize_message(serializer_kind::json, m); }) ==
        errc::invalid_message);
  CHECK(parse_message(serializer_kind::msgpack, serialize_message(serializer_kind::msgpack, m)) ==
        message(m));
}
