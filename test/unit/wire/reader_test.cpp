// The fast readers (simdjson for JSON, wampbox's own MessagePack reader) against nlohmann's
// parsers, which wampbox used before: same acceptance, same values, same storage types.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>
#include <wampbox/wire/serializer.hpp>

#include "../../../lib/wire/internal.hpp"
#include "../../../lib/wire/json_direct_reader.hpp"
#include "wire_test_util.hpp"

using namespace wampbox;
using namespace wampbox::wire;
using wampbox::wire::test::from_hex;
using wampbox::wire::test::protocol_errc;

namespace {

/// Equality that also compares storage types (unsigned vs signed vs float) and float bits.
bool same(const value& a, const value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case value::value_t::array:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
      return true;
    case value::value_t::object:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        const auto other = b.find(it.key());
        if (other == b.end() || !same(*it, *other)) return false;
      }
      return true;
    case value::value_t::number_float: {
      const double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case value::value_t::binary:
      return a == b && a.get_binary().has_subtype() == b.get_binary().has_subtype();
    default: return a == b;
  }
}

/// xorshift64: fixed seed, reproducible.
struct random_source {
  std::uint64_t state = 0x2545f4914f6cdd1dULL;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

/// JSON fragments, valid and not, around the edges where parsers tend to differ. No raw NUL
/// and no string starting with \u0000 (wampbox's binary convention, tested elsewhere).
const char* const json_tokens[] = {
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    " ",
    "\n",
    "\t",
    "\r",
    "\"a\"",
    "\"k\"",
    "\"\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "\"\\udc00\"",
    "\"\\ud800\"",
    "\"\\ud800\\ud800\"",
    "\"\\ud800x\"",
    "\"é\"",
    "\"\xff\"",
    "\"\xc0\x80\"",
    "\"\xed\xa0\x80\"",
    "\"a\tb\"",
    "\"\\n\\/\\\\\\\"\"",
    "\"\\x\"",
    "\"\\u12\"",
    "\"x\\u0000\"",
    "\"\x7f\"",
    "0",
    "-0",
    "1",
    "-1",
    "01",
    "1.",
    ".5",
    "-.5",
    "+1",
    "1e5",
    "1E+2",
    "1e-2",
    "1e",
    "1e400",
    "-1e400",
    "1e-400",
    "0.1",
    "2.5e-3",
    "-",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "9223372036854775807",
    "9223372036854775808",
    "123456789012345678901234567890",
    "0.30000000000000004",
    "1.7976931348623157e308",
    "4.9e-324",
    "true",
    "false",
    "null",
    "tru",
    "nul",
    "falsee",
    "\xef\xbb\xbf",
    "/*c*/",
};

/// A random JSON text: mostly a valid document, sometimes with fragments spliced in.
std::string random_json(random_source& rng, int depth = 0) {
  const std::size_t scalars = 45;  // tokens after the first 10 punctuation/whitespace ones
  switch (depth > 3 ? 2 : rng.below(4)) {
    case 0: {
      std::string out = "[";
      for (std::size_t i = 0, n = rng.below(4); i < n; ++i)
        out += (i ? "," : "") + random_json(rng, depth + 1);
      return out + "]";
    }
    case 1: {
      std::string out = "{";
      for (std::size_t i = 0, n = rng.below(4); i < n; ++i)
        out += (i ? ",\"" : "\"") + std::string(1, static_cast<char>('a' + rng.below(3))) +
               "\":" + random_json(rng, depth + 1);
      return out + "}";
    }
    default: return json_tokens[10 + rng.below(scalars)];
  }
}

std::string mutate_json(random_source& rng, std::string text) {
  for (std::size_t edits = rng.below(3); edits > 0; --edits) {
    const std::size_t at = rng.below(text.size() + 1);
    switch (rng.below(3)) {
      case 0: text.insert(at, json_tokens[rng.below(std::size(json_tokens))]); break;
      case 1:
        if (at < text.size()) text.erase(at, 1 + rng.below(3));
        break;
      default:
        if (at < text.size()) text[at] = "[]{},:\"0-e. x"[rng.below(13)];
        break;
    }
  }
  return text;
}

/// nlohmann's parser, as read_json worked before; nullopt when it refuses the text.
std::optional<value> nlohmann_json(const std::string& text) {
  value v = value::parse(text, nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

std::optional<value> our_json(const std::string& text) {
  try {
    return read_json(text);
  } catch (const protocol_error& e) {
    CHECK(e.code() == make_error_code(errc::malformed_message));
    return std::nullopt;
  }
}

}  // namespace

TEST_CASE("read_json: same verdict and values as nlohmann's parser on random texts") {
  random_source rng;
  int accepted = 0, refused = 0, minus_zero = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string text = mutate_json(rng, random_json(rng));
    if (text.find("\"\\u0000") != std::string::npos) continue;  // wampbox's binary convention
    const auto expected = nlohmann_json(text);
    const auto got = our_json(text);
    CAPTURE(text);
    REQUIRE(expected.has_value() == got.has_value());
    if (!got) {
      ++refused;
      continue;
    }
    ++accepted;
    if (text.find("-0") != std::string::npos && !same(*expected, *got)) {
      // simdjson reports -0 as integer 0, which we store as unsigned (nlohmann: signed 0).
      CHECK(*expected == *got);
      ++minus_zero;
      continue;
    }
    CHECK(same(*expected, *got));
  }
  MESSAGE("random JSON: " << accepted << " accepted, " << refused << " refused, " << minus_zero
                          << " differing only in the storage of -0");
  CHECK(accepted > 2000);
  CHECK(refused > 2000);
}

TEST_CASE("read_json: the direct reader gives what the reference reader gives, or declines") {
  random_source rng;
  int taken = 0, declined = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = mutate_json(rng, random_json(rng));
    if (i % 4 == 0) {  // Autobahn's binary strings, valid and not, spliced in
      const char* const binaries[] = {R"("\u0000")",     R"("\u0000AQID")", R"("\u0000AQI=")",
                                      R"("\u0000AQ==")", R"("\u0000AQI")",  R"("\u0000A\"QID")"};
      text.insert(rng.below(text.size() + 1), binaries[rng.below(std::size(binaries))]);
    }
    CAPTURE(text);
    const auto direct = detail::read_json_direct(text);
    if (!direct) {
      ++declined;
      continue;
    }
    ++taken;
    std::optional<value> reference;
    try {
      reference = detail::read_json_reference(text);
    } catch (const protocol_error&) {
    }
    REQUIRE(reference.has_value());
    CHECK(same(*direct, *reference));
  }
  MESSAGE("direct reader: " << taken << " texts taken, " << declined << " declined");
  CHECK(taken > 2000);
  CHECK(declined > 2000);
  // Left to the full reader: \u escapes, -0, integers beyond 18 digits, numbers out of range,
  // a BOM, invalid Base64, and anything invalid.
  for (const char* text : {R"("\u00e9")", "-0", "1234567890123456789", "[1e400]", "\xef\xbb\xbf[1]",
                           R"(["\u0000AQI"])", "[1,]", "{\"a\"}", "\"a\tb\"", "[1] x", ""}) {
    CAPTURE(text);
    CHECK_FALSE(detail::read_json_direct(text).has_value());
  }
  CHECK(same(
      *detail::read_json_direct(R"({"b":"\u0000AQID","a":[-5,5,1.5e1,"\n\/"]})"),
      value::object({{"b", value::binary({1, 2, 3})},
                     {"a", value::array({std::int64_t{-5}, std::uint64_t{5}, 15.0, "\n/"})}})));
}

TEST_CASE("Base64: round trips at every length, and any character outside the alphabet refused") {
  random_source rng;
  for (int i = 0; i < 5000; ++i) {
    bytes data(rng.below(120));
    for (auto& b : data) b = static_cast<std::uint8_t>(rng.below(256));
    std::string text;
    detail::append_base64(data.data(), data.size(), text);
    CAPTURE(text);
    const auto decoded = detail::decode_base64(text);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == data);
    if (text.empty()) continue;
    // One character replaced by a byte outside the alphabet, or by '=' where no padding may be:
    // anywhere in the vector blocks and table groups, or at the start of a lone padded group.
    const std::size_t at = rng.below(text.size() > 4 ? text.size() - 4 : 2);
    std::string bad = text;
    const char outside[] = {'-', '_', '.', ' ', '\0', '\x80', '\xff', '@', '[', '`', '{', ':', '='};
    bad[at] = outside[rng.below(std::size(outside))];
    CAPTURE(bad);
    CHECK_FALSE(detail::decode_base64(bad).has_value());
  }
}

TEST_CASE("skip_plain_json: stops exactly at the first byte a JSON string must look at") {
  random_source rng;
  auto needs_attention = [](unsigned char c) {
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
  };
  for (int i = 0; i < 20000; ++i) {
    // Mostly plain text with a few bytes of every kind, at every offset of the vector loops.
    std::string text(rng.below(100), 'a');
    for (char& c : text) c = static_cast<char>(' ' + rng.below(95));
    for (std::size_t k = rng.below(3); k > 0 && !text.empty(); --k)
      text[rng.below(text.size())] = static_cast<char>(rng.below(256));
    CAPTURE(text);
    const char* begin = text.data();
    const char* end = begin + text.size();
    const char* stop = detail::skip_plain_json(begin, end);
    const char* first = begin;
    while (first != end && !needs_attention(static_cast<unsigned char>(*first))) ++first;
    // Either exactly the first such byte, or short of it in the tail of fewer than 8 bytes that
    // the caller reads byte by byte.
    CHECK(stop <= first);
    if (stop != first) CHECK(end - stop < 8);
  }
}

TEST_CASE("direct reader, step by step: members in place, the rest as values, or declines") {
  std::string_view uri;
  value args;
  std::vector<std::string> keys;
  auto read = [&](std::string_view text) {
    detail::direct_json_reader reader(text);
    keys.clear();
    return reader.read_members([&](std::string_view key) {
      keys.emplace_back(key);
      if (key == "uri") return reader.read_plain_string(uri);
      return reader.read_value(args);
    }) && reader.at_end();
  };
  REQUIRE(read(R"( {"uri" : "a.b\u00e9" , "args":[1,{"k":"\n"}]} )") == false);  // escape in place
  REQUIRE(read(R"({"uri":"a.b","args":[1,{"k":"\n"}]})"));
  CHECK(uri == "a.b");
  CHECK(same(args, value::array({std::uint64_t{1}, value::object({{"k", "\n"}})})));
  CHECK(keys == std::vector<std::string>{"uri", "args"});
  REQUIRE(read("{}"));
  CHECK(keys.empty());
  for (const char* text : {R"({"uri":1})", R"({"u\ri":"x"})", R"({"uri":"x"} x)", R"({"uri":"x",})",
                           R"(["uri"])", R"({"uri":"x")", "{\"uri\":\"\xff\"}"}) {
    CAPTURE(text);
    CHECK_FALSE(read(text));
  }
}

TEST_CASE("read_json: storage types and the inputs simdjson leaves to the reference parser") {
  const value v = read_json(
      "[0,5,-5,9223372036854775807,9223372036854775808,18446744073709551615,"
      "-9223372036854775808,18446744073709551616,-9223372036854775809,1.0,-0.0,1e-400]");
  CHECK(v[0].is_number_unsigned());
  CHECK(v[1].is_number_unsigned());
  CHECK((v[2].is_number_integer() && !v[2].is_number_unsigned() && v[2] == -5));
  CHECK(v[3].is_number_unsigned());
  CHECK((v[4].is_number_unsigned() && v[4] == 9223372036854775808ULL));
  CHECK((v[5].is_number_unsigned() && v[5] == 18446744073709551615ULL));
  CHECK((!v[6].is_number_unsigned() && v[6] == INT64_MIN));
  // Integers beyond 64 bits become doubles, as they did with nlohmann's parser.
  CHECK((v[7].is_number_float() && v[7] == 18446744073709551616.0));
  CHECK((v[8].is_number_float() && v[8] == -9223372036854775809.0));
  CHECK((v[9].is_number_float() && v[9] == 1.0));
  CHECK((v[10].is_number_float() && std::signbit(v[10].get<double>())));
  CHECK((v[11].is_number_float() && v[11] == 0.0));
  CHECK(read_json("\xef\xbb\xbf[1]") == value::array({1}));  // a leading UTF-8 BOM is skipped
  CHECK(read_json(R"({"a":1,"a":"two"})") == value::object({{"a", "two"}}));  // last key wins
  CHECK(protocol_errc([] { read_json("[1e400]"); }) == errc::malformed_message);
}

TEST_CASE("read_json_padded: parses in place whatever the padding holds") {
  for (const std::string text :
       {"123", "-1.5e3", "true", "null", "\"abc\"", "[1,2]", R"({"a":"\u0000AQID","b":[{}]})",
        R"({"uri":"com.example","args":["x"],"kwargs":null})"}) {
    CAPTURE(text);
    for (char fill : {'7', '"', ']', ' ', '\0'}) {
      std::string buffer = text + std::string(json_padding, fill);
      CHECK(same(read_json_padded(std::string_view(buffer.data(), text.size())), read_json(text)));
    }
  }
  // The padding never completes a truncated text.
  std::string truncated = "[1," + std::string("2]") + std::string(json_padding, ' ');
  CHECK(protocol_errc([&] { read_json_padded(std::string_view(truncated.data(), 3)); }) ==
        errc::malformed_message);
  std::string bad_base64 = R"(["\u0000AQI"])" + std::string(json_padding, ' ');
  CHECK(protocol_errc([&] {
          read_json_padded(std::string_view(bad_base64.data(), bad_base64.size() - json_padding));
        }) == errc::malformed_message);
}

TEST_CASE("read_json: texts larger than the reused parser's limit") {
  const std::string big(3 << 20, 'x');
  const value v = read_json("[\"" + big + "\",1]");
  CHECK(v[0] == big);
  CHECK(v[1] == 1);
  CHECK(read_json("[2]") == value::array({2}));  // the thread's parser is still fine
}

namespace {

// One MessagePack array with every format (non-minimal ones too), read by hand:
// [0, 127, -32, -1, 0xff, 0xffff, 0xffffffff, 0xffffffffffffffff, int8 -128, int16 -32768,
//  int32 -2^31, int64 -2^63, int8 5, float32 1.5, float64 1.5, nil, false, true, "é",
//  str8 "a", str16 "b", str32 "c", bin8 [1,2], bin16 [0xff], bin32 [], map16 {"k":1,"j":[]},
//  map32 {"k":nil}, array32 [[{}]], {"x":1,"x":2}]
const char* const every_format =
    "dc001d 00 7f e0 ff cc ff cd ffff ce ffffffff cf ffffffffffffffff"
    " d0 80 d1 8000 d2 80000000 d3 8000000000000000 d0 05 ca 3fc00000 cb 3ff8000000000000"
    " c0 c2 c3 a2c3a9 d90161 da000162 db0000000163 c4020102 c50001ff c600000000"
    " de0002 a16b 01 d9016a 90 df00000001 a16b c0 dd00000001 91 80 82 a178 01 a178 02";

/// nlohmann's from_msgpack with the checks wampbox's old SAX handler added (no ext types,
/// UTF-8 strings and keys); nullopt when refused.
std::optional<value> nlohmann_msgpack(const std::string& bytes) {
  value v = value::from_msgpack(bytes, true, false);
  if (v.is_discarded()) return std::nullopt;
  auto has_ext = [](auto&& self, const value& x) -> bool {
    if (x.is_binary()) return x.get_binary().has_subtype();
    for (const auto& item : x)
      if (x.is_structured() && self(self, item)) return true;
    return false;
  };
  if (has_ext(has_ext, v)) return std::nullopt;
  try {
    (void)v.dump();  // the strict error handler throws on invalid UTF-8 in strings and keys
  } catch (const value::exception&) {
    return std::nullopt;
  }
  return v;
}

std::optional<value> our_msgpack(const std::string& bytes) {
  try {
    return deserialize(serializer_kind::msgpack, bytes);
  } catch (const protocol_error& e) {
    CHECK(e.code() == make_error_code(errc::malformed_message));
    return std::nullopt;
  }
}

}  // namespace

TEST_CASE("MessagePack reader: every format, with nlohmann's storage types") {
  const value v = deserialize(serializer_kind::msgpack, from_hex(every_format));
  REQUIRE(v.size() == 29);
  CHECK(same(v, *nlohmann_msgpack(from_hex(every_format))));
  CHECK((v[0].is_number_unsigned() && v[1] == 127));
  CHECK((!v[2].is_number_unsigned() && v[2] == -32 && v[3] == -1));
  CHECK((v[7].is_number_unsigned() && v[7] == UINT64_MAX));
  CHECK((!v[11].is_number_unsigned() && v[11] == INT64_MIN));
  CHECK((!v[12].is_number_unsigned() && v[12] == 5));  // int8 keeps signed storage
  CHECK((v[13].is_number_float() && v[13] == 1.5));
  CHECK(v[18] == "é");
  CHECK(v[22] == make_binary({1, 2}));
  CHECK(v[24] == make_binary({}));
  CHECK(v[25] == value::object({{"k", 1}, {"j", value::array()}}));
  CHECK(v[28] == value::object({{"x", 2}}));
}

TEST_CASE("MessagePack reader: refusals") {
  for (const char* hex : {
           "c1",           // never used
           "d40100",       // fixext1
           "c7020501 02",  // ext8
           "8101 01",      // key not a string
           "81c0 01",      // nil key
           "81a1ff 01",    // key not UTF-8
           "a1ff",         // string not UTF-8
           "92 01",        // truncated array
           "c40501",       // truncated bin8
           "cd00",         // truncated uint16
           "01 01",        // trailing byte
           "",             // nothing
       }) {
    CAPTURE(hex);
    CHECK(protocol_errc([&] { deserialize(serializer_kind::msgpack, from_hex(hex)); }) ==
          errc::malformed_message);
  }
}

TEST_CASE("MessagePack reader: same verdict and values as nlohmann's reader on mutations") {
  random_source rng;
  const std::string base = from_hex(every_format);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = base;
    for (std::size_t edits = 1 + rng.below(3); edits > 0; --edits) {
      const std::size_t at = rng.below(bytes.size());
      switch (rng.below(3)) {
        case 0: bytes[at] = static_cast<char>(rng.next()); break;
        case 1: bytes.erase(at, 1 + rng.below(3)); break;
        default: bytes.insert(at, 1, static_cast<char>(rng.next())); break;
      }
      if (bytes.empty()) bytes = "x";
    }
    const auto expected = nlohmann_msgpack(bytes);
    const auto got = our_msgpack(bytes);
    CAPTURE(value(std::vector<std::uint8_t>(bytes.begin(), bytes.end())).dump());
    REQUIRE(expected.has_value() == got.has_value());
    if (got) {
      ++accepted;
      CHECK(same(*expected, *got));
    } else {
      ++refused;
    }
  }
  MESSAGE("MessagePack mutations: " << accepted << " accepted, " << refused << " refused");
  CHECK(accepted > 1000);
  CHECK(refused > 1000);
}
