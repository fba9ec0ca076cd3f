// Shared helpers of the codec tests: the §1.5 vector keys, hex, temporary directories.
#pragma once

#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/key_ring.hpp>
#include <wampbox/error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace wampbox::codec::test {

// payload-encryption §1.5 (Autobahn|Python's vectors): inline, so these tests need no data file.
inline const std::string vector_originator_priv = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
inline const std::string vector_originator_pub = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";
inline const std::string vector_responder_priv = "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=";
inline const std::string vector_responder_pub = "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=";
inline const std::string vector_k_hex =
    "ec88f6e13b22bf9f04d480e0d8525c08ac7e2f48e212742bcbcafa104a74b08d";

/// All four vector keys.
inline key_spec vector_key_spec() {
  return {vector_originator_priv, vector_originator_pub, vector_responder_priv,
          vector_responder_pub};
}

/// A ring with the vector keys for the originator (publisher/caller) side, under `prefix`.
inline key_ring originator_ring(const std::string& prefix = "com.example.",
                                key_policy policy = key_policy::strict) {
  key_ring ring;
  ring.set_key(prefix, key::from_spec({vector_originator_priv, {}, {}, vector_responder_pub}),
               policy);
  return ring;
}

/// A ring with the vector keys for the responder (subscriber/callee) side, under `prefix`.
inline key_ring responder_ring(const std::string& prefix = "com.example.",
                               key_policy policy = key_policy::strict) {
  key_ring ring;
  ring.set_key(prefix, key::from_spec({{}, vector_originator_pub, vector_responder_priv, {}}),
               policy);
  return ring;
}

/// TEST-ONLY nonce source giving first, first+1, ..., first+23 (the vectors' nonces).
inline std::function<void(std::span<unsigned char, 24>)> counting_nonce(unsigned char first) {
  return [first](std::span<unsigned char, 24> n) {
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<unsigned char>(first + i);
  };
}

/// Options reproducing Autobahn's output byte for byte with a fixed nonce.
inline cryptobox_options autobahn_identical(unsigned char first_nonce_byte) {
  cryptobox_options o;
  o.binding = false;
  o.nonce_source = counting_nonce(first_nonce_byte);
  return o;
}

/// The errc of the payload_error `f` throws, or nullopt when it throws nothing.
template <class F>
std::optional<errc> payload_errc(F&& f) {
  try {
    f();
  } catch (const payload_error& e) {
    REQUIRE(e.code().category() == wampbox_category());
    return static_cast<errc>(e.code().value());
  }
  return std::nullopt;
}

/// The code a call throws (as wampbox::error), and its message in `what`; empty when it does not
/// throw.
template <class F>
boost::system::error_code thrown_code(F&& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const wampbox::error& e) {
    if (what != nullptr) *what = e.what();
    return e.code();
  }
  return {};
}

/// Lower-case hex of bytes.
inline std::string hex(const void* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    const auto b = static_cast<const unsigned char*>(data)[i];
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

/// Bytes from lower-case hex.
inline bytes from_hex(std::string_view h) {
  bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

/// A fresh private directory, removed with its contents at scope end.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wampbox-codec-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category());
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  /// The directory.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace wampbox::codec::test
