// Helpers shared by the wire-layer unit tests.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <wampbox/error.hpp>
#include <wampbox/wire/serializer.hpp>
#include <wampbox/wire/value.hpp>

namespace wampbox::wire::test {

/// Decodes hex (either case; spaces ignored) into a byte string. Test data only: REQUIREs
/// well-formed input.
inline std::string from_hex(std::string_view spaced) {
  std::string hex(spaced);
  std::erase(hex, ' ');
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  REQUIRE(hex.size() % 2 == 0);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    REQUIRE((hi >= 0 && lo >= 0));
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

/// Runs `f` and returns the errc of the protocol_error it throws; fails the test when it
/// returns normally or throws anything else.
template <typename F>
errc protocol_errc(F&& f) {
  try {
    f();
  } catch (const protocol_error& e) {
    return static_cast<errc>(e.code().value());
  } catch (const std::exception& e) {
    FAIL("unexpected exception type: " << e.what());
  }
  FAIL("no exception thrown");
  return errc{};
}

/// True when every dict in `v` lists its keys in sorted order. wampbox's value type
/// (nlohmann::json) keeps dicts sorted, so only such samples can be re-serialized byte-exactly.
inline bool keys_sorted(const nlohmann::ordered_json& v) {
  if (v.is_object()) {
    const std::string* previous = nullptr;
    for (const auto& [key, item] : v.items()) {
      if (previous && !(*previous < key)) return false;
      previous = &key;
    }
  }
  if (v.is_structured())
    for (const auto& item : v)
      if (!keys_sorted(item)) return false;
  return true;
}

/// keys_sorted for serialized bytes.
inline bool keys_sorted(serializer_kind kind, const std::string& bytes) {
  switch (kind) {
    case serializer_kind::json: return keys_sorted(nlohmann::ordered_json::parse(bytes));
    case serializer_kind::msgpack: return keys_sorted(nlohmann::ordered_json::from_msgpack(bytes));
    case serializer_kind::cbor: return keys_sorted(nlohmann::ordered_json::from_cbor(bytes));
  }
  return false;
}

}  // namespace wampbox::wire::test
