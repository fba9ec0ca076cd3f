// Shared helpers of the secure-mode tests: a group of peers with identities and a group key, a
// settable clock, sealing and opening (the layout itself: secure_layout.hpp).
#pragma once

#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/codec/secure_ring.hpp>
#include <wampbox/error.hpp>

#include "codec_test_util.hpp"
#include "secure_layout.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace wampbox::codec::test {

inline constexpr std::int64_t start_ms = 1'800'000'000'000;  // 2027-01-15

/// Peers of one secure prefix ("com.example"): identities by name, one group key, one clock.
///   publisher: may publish; caller: may call; callee: may answer;
///   subscriber: listed (may call) but not a publisher; intruder: holds the group key, unlisted.
struct secure_group {
  std::string prefix = "com.example";
  std::string group_b64 = group_key::generate().to_base64();
  std::map<std::string, std::string> seeds;
  std::int64_t now = start_ms;

  secure_group() {
    for (const char* name : {"publisher", "caller", "callee", "subscriber", "intruder"})
      seeds[name] = identity_key::generate().seed_base64();
  }

  identity_key identity(const std::string& name) const {
    return identity_key::from_seed(seeds.at(name));
  }

  /// The ring of peer `me`: the group key, the listed senders, its own identity.
  secure_ring ring(const std::string& me) const {
    secure_ring r;
    r.set_identity(me, identity(me));
    r.add_key(prefix, group_key::from_base64(group_b64));
    r.trust_sender(prefix, "publisher", identity("publisher").public_key(),
                   roles_of({sender_role::publish}));
    r.trust_sender(prefix, "caller", identity("caller").public_key(),
                   roles_of({sender_role::call}));
    r.trust_sender(prefix, "callee", identity("callee").public_key(),
                   roles_of({sender_role::answer}));
    r.trust_sender(prefix, "subscriber", identity("subscriber").public_key(),
                   roles_of({sender_role::call}));
    return r;
  }

  /// Options whose clock is `now`.
  secure_options options() {
    secure_options o;
    o.clock = [this] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(now));
    };
    return o;
  }

  std::unique_ptr<secure_codec> codec(const std::string& me) {
    return std::make_unique<secure_codec>(ring(me), options());
  }
  std::unique_ptr<secure_codec> codec(secure_ring r) {
    return std::make_unique<secure_codec>(std::move(r), options());
  }
};

/// An encoded payload and the envelope options it travels with.
struct sealed {
  value options;
  wire::payload data;
};

inline wire::payload sample_args() {
  return {value::array({1, "two", {{"three", 3.0}}}), {{"k", "v"}}, std::nullopt};
}

/// Encodes `data` as `kind` on `uri` with `codec`.
inline sealed seal(secure_codec& codec, payload_kind kind, const std::string& uri,
                   call_context& call, wire::payload data = sample_args(),
                   value options = value::object()) {
  codec.encode(kind, uri, options, data, call);
  return {std::move(options), std::move(data)};
}

/// Decodes a copy of `s` as `kind` on `uri`; returns the payload.
inline wire::payload open(secure_codec& codec, payload_kind kind, const std::string& uri,
                          const sealed& s, call_context& call) {
  wire::payload data = s.data;
  codec.decode(kind, uri, s.options, data, call);
  return data;
}

}  // namespace wampbox::codec::test
