// Byte-exact interop with Autobahn|Python: the encrypted-payload messages of
// payload-encryption §1.5 and test/data/cryptobox/cryptobox_vectors.out.txt.
#include <filesystem>
#include <fstream>
#include <wampbox/wire/serializer.hpp>

#include "../test_data.hpp"
#include "wire_test_util.hpp"

using namespace wampbox;
using namespace wampbox::wire;
using wampbox::wire::test::from_hex;

namespace {

// The 117-byte cryptobox payload of §1.5 (nonce || tag || ciphertext).
const std::string payload_hex =
    "000102030405060708090a0b0c0d0e0f1011121314151617aa3167a5424e13a0533ace6c3e17d95369d7ae2b331f47"
    "f09a9d"
    "2c2d9a3a70d00566712817dcdf5c8db867bac3266a300b766c02084d302691b752a7652459c92c1a4b610d967cedc5"
    "446618"
    "d0039529bab9850661a3e2a569cb13c187";

}  // namespace

TEST_CASE("vectors: PUBLISH of payload-encryption.md §1.5, byte-exact in all serializers") {
  const std::string payload = from_hex(payload_hex);
  REQUIRE(payload.size() == 117);
  const message m = publish_message{1,
                                    {{"enc_algo", "cryptobox"}, {"enc_serializer", "json"}},
                                    "com.example.topic",
                                    {.opaque = bytes(payload.begin(), payload.end())}};
  const std::string json =
      R"([16,1,{"enc_algo":"cryptobox","enc_serializer":"json"},"com.example.topic","\u0000AAECAwQFBgcICQoLDA0ODxAREhMUFRYXqjFnpUJOE6BTOs5sPhfZU2nXriszH0fwmp0sLZo6cNAFZnEoF9zfXI24Z7rDJmowC3ZsAghNMCaRt1KnZSRZySwaS2ENlnztxURmGNADlSm6uYUGYaPipWnLE8GH"])";
  const std::string msgpack = from_hex(
      "95100182a8656e635f616c676fa963727970746f626f78ae656e635f73657269616c697a6572a46a736f6eb1636f"
      "6d2e657861"
      "6d706c652e746f706963c475" +
      payload_hex);
  const std::string cbor = from_hex(
      "851001a268656e635f616c676f6963727970746f626f786e656e635f73657269616c697a6572646a736f6e71636f"
      "6d2e6578616d"
      "706c652e746f7069635875" +
      payload_hex);
  CHECK(json.size() == 240);
  CHECK(msgpack.size() == 180);
  CHECK(cbor.size() == 180);
  for (const auto& [kind, expected] :
       {std::pair{serializer_kind::json, json}, std::pair{serializer_kind::msgpack, msgpack},
        std::pair{serializer_kind::cbor, cbor}}) {
    CAPTURE(serializer_name(kind));
    CHECK(serialize_message(kind, m) == expected);
    CHECK(parse_message(kind, expected) == m);
  }
}

TEST_CASE(
    "vectors: every message of cryptobox_vectors.out.txt converts byte-exactly between "
    "serializers") {
  const auto path = test_data::cryptobox_vectors();
  // Each message is a "json hex:" line followed by "msgpack (...) hex:" and "cbor (...) hex:".
  struct vector_set {
    std::string bytes[3];  // json, msgpack, cbor
  };
  std::vector<vector_set> sets;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto hex_at = line.find(" hex: ");
    if (hex_at == std::string::npos || line.find("payload") != std::string::npos) continue;
    const std::string head = line.substr(line.find_first_not_of(' '));
    const std::string bytes = from_hex(line.substr(hex_at + 6));
    if (head.starts_with("json hex:"))
      sets.emplace_back().bytes[0] = bytes;
    else if (head.starts_with("msgpack (") && !sets.empty())
      sets.back().bytes[1] = bytes;
    else if (head.starts_with("cbor (") && !sets.empty())
      sets.back().bytes[2] = bytes;
  }
  REQUIRE(sets.size() >= 9);
  const serializer_kind kinds[] = {serializer_kind::json, serializer_kind::msgpack,
                                   serializer_kind::cbor};
  int exact = 0, unsorted = 0;
  for (const auto& set : sets) {
    for (const auto& b : set.bytes) REQUIRE(!b.empty());
    const message m = parse_message(serializer_kind::json, set.bytes[0]);
    CAPTURE(message_name(type_of(m)));
    for (int from = 0; from < 3; ++from) {
      CHECK(parse_message(kinds[from], set.bytes[from]) == m);
      // A dict with unsorted keys (EVENT with details.topic first) cannot come out byte-exact:
      // wampbox's value type sorts keys. Those compare semantically only.
      if (!test::keys_sorted(kinds[from], set.bytes[from])) {
        ++unsorted;
        CHECK(parse_message(kinds[from], serialize_message(kinds[from], m)) == m);
        continue;
      }
      CHECK(serialize_message(kinds[from], m) == set.bytes[from]);
      ++exact;
    }
  }
  MESSAGE(sets.size() << " vector messages: " << exact << " byte-exact serializations, " << unsorted
                      << " compared semantically (unsorted dict keys in the vector)");
}
