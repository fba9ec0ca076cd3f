// wampbox — internal libsodium helpers shared by the codec sources.
#pragma once

#include <cstddef>
#include <string>

namespace wampbox::codec::detail {

/// Initialises libsodium once (thread-safe); throws std::runtime_error if it cannot.
void ensure_sodium();

/// Standard padded Base64 (RFC 4648 §4) of `size` bytes.
std::string to_base64(const unsigned char* data, std::size_t size);

/// Wipes a string's bytes (secrets that passed through std::string).
void wipe(std::string& s) noexcept;

}  // namespace wampbox::codec::detail
