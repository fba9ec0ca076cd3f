// Live interop with Autobahn|Python's KeyRing (run at test time through /usr/bin/python3, when it
// has autobahn): Autobahn encrypts, wampbox decrypts; wampbox encrypts (with its wbx marker),
// Autobahn decrypts.
#include <wampbox/codec/cryptobox_codec.hpp>

#include "codec_test_util.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

using namespace wampbox;
using namespace wampbox::codec;
using namespace wampbox::codec::test;
using pk = payload_kind;

namespace {

const char* const python = "/usr/bin/python3";

// argv: mode originator_priv originator_pub responder_priv responder_pub [uri payload_hex]
const char* const script = R"PY(
import json, sys
from autobahn.wamp.cryptobox import EncodedPayload, Key, KeyRing
from autobahn.wamp.serializer import JsonObjectSerializer
mode, opriv, opub, rpriv, rpub = sys.argv[1:6]
ring = KeyRing()
if mode == 'encode':
    ring.set_key('com.example.', Key(originator_priv=opriv, responder_pub=rpub))
    enc = ring.encode(True, 'com.example.topic', [1, 'two', {'three': 3.0}, b'\x00\xff', 'z\u00fcrich'], {'k': 'v'})
    print(enc.enc_algo, enc.enc_serializer, enc.payload.hex())
else:
    ring.set_key('com.example.', Key(originator_pub=opub, responder_priv=rpriv))
    uri, args, kwargs = ring.decode(False, sys.argv[6], EncodedPayload(bytes.fromhex(sys.argv[7]), 'cryptobox', 'json'))
    print(JsonObjectSerializer().serialize({'uri': uri, 'args': args, 'kwargs': kwargs}).decode('utf8'))
)PY";

/// Runs the script with `args` (60 s limit); nullopt when Python or autobahn is unavailable.
std::optional<std::string> run_autobahn(const temp_dir& dir, const std::string& args) {
  const auto path = dir.path() / "keyring_peer.py";
  std::ofstream(path) << script;
  const std::string cmd = std::string("timeout 60 ") + python + " " + path.string() + " " + args +
                          " 2>" + (dir.path() / "stderr.txt").string();
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool autobahn_available() {
  return std::filesystem::exists(python) &&
         std::system(
             (std::string(python) + " -c 'import autobahn.wamp.cryptobox' 2>/dev/null").c_str()) ==
             0;
}

std::string key_args() {
  return vector_originator_priv + " " + vector_originator_pub + " " + vector_responder_priv + " " +
         vector_responder_pub;
}

}  // namespace

TEST_SUITE("codec.autobahn_live") {
  TEST_CASE("Autobahn's KeyRing and wampbox decrypt each other's fresh payloads") {
    // Autobahn|Python is a test dependency (scripts/install-deps): its absence is a failure.
    REQUIRE_MESSAGE(autobahn_available(), "/usr/bin/python3 with python3-autobahn is missing");
    temp_dir dir;

    // Autobahn encrypts (random nonce) -> wampbox subscriber decrypts.
    const auto encoded = run_autobahn(dir, "encode " + key_args());
    REQUIRE(encoded.has_value());
    REQUIRE(encoded->starts_with("cryptobox json "));
    wire::payload data{nullptr, nullptr, from_hex(encoded->substr(15))};
    call_context ctx;
    cryptobox_codec sub(responder_ring());
    sub.decode(pk::event, "com.example.topic",
               {{"enc_algo", "cryptobox"}, {"enc_serializer", "json"}}, data, ctx);
    CHECK(data.args ==
          value::array({1, "two", {{"three", 3.0}}, make_binary({0x00, 0xff}), "z\xc3\xbcrich"}));
    CHECK(data.kwargs == value{{"k", "v"}});

    // wampbox encrypts a CALL (with its wbx marker) -> Autobahn's callee-side KeyRing decrypts.
    cryptobox_codec caller(originator_ring());
    value options = value::object();
    wire::payload call{value::array({"z\xc3\xbcrich", 2.5, nullptr}), {{"n", 1}}, std::nullopt};
    call_context cctx;
    caller.encode(pk::call, "com.example.proc", options, call, cctx);
    REQUIRE(call.opaque);
    const auto decoded = run_autobahn(dir, "decode " + key_args() + " com.example.proc " +
                                               hex(call.opaque->data(), call.opaque->size()));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == R"({"uri":"com.example.proc","args":["z)"
                      "\xc3\xbc"
                      R"(rich",2.5,null],"kwargs":{"n":1}})");
  }
}
