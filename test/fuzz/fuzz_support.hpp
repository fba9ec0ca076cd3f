// Shared by the fuzz harnesses: the failure report and the key ring of the codec harnesses.
#pragma once

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/key_ring.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace fuzz {

/// Aborts (a finding for libFuzzer, a failure for the corpus replay) unless `ok`.
inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

/// The incoming payload kind that the low two bits of a harness's control byte pick.
inline wampbox::codec::payload_kind incoming_kind(std::uint8_t control) {
  using kind = wampbox::codec::payload_kind;
  static constexpr std::array<kind, 4> kinds{kind::event, kind::invocation, kind::result,
                                             kind::result_error};
  return kinds[control & 3U];
}

/// The call id a codec harness's pending call expects in answers (when its control byte says so).
inline constexpr const char* call_id = "0123456789abcdef0123456789abcdef";

/// The URI every codec harness uses; its key covers it.
inline constexpr const char* codec_uri = "com.example.topic";

/// A ring holding both roles of the docs/payload-encryption.md §1.5 vector keys under
/// "com.example.", built once (key construction is the slow part).
inline std::shared_ptr<const wampbox::codec::key_ring> codec_ring() {
  static const auto ring = [] {
    using namespace wampbox::codec;
    key_ring r;
    r.set_key("com.example.", key::from_spec({"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                                              {},
                                              "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=",
                                              {}}));
    return std::make_shared<const key_ring>(std::move(r));
  }();
  return ring;
}

}  // namespace fuzz
