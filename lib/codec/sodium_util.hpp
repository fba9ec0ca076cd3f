// wampbox — internal libsodium helpers shared by the codec sources.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <wampbox/wire/value.hpp>

namespace wampbox::codec::detail {

/// Initialises libsodium once (thread-safe); throws std::runtime_error if it cannot.
void ensure_sodium();

/// Standard padded Base64 (RFC 4648 §4) of `size` bytes.
std::string to_base64(const unsigned char* data, std::size_t size);

/// Decodes standard padded Base64 of exactly `size` bytes into `out`; false (and `out` zeroed)
/// when it is not valid Base64 or has another length. The temporary copy is wiped.
bool from_base64_exact(std::string_view b64, unsigned char* out, std::size_t size);

/// Wipes a string's bytes (secrets that passed through std::string).
void wipe(std::string& s) noexcept;

/// Wipes the strings and binaries in a value (decrypted data the codec drops).
void wipe(value& v) noexcept;

}  // namespace wampbox::codec::detail
