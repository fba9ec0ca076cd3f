#include "internal.hpp"

#include <sodium.h>

namespace wampbox::wire::detail {

void append_base64(const std::uint8_t* data, std::size_t size, std::string& out) {
  const std::size_t old_size = out.size();
  const std::size_t encoded = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(old_size + encoded);  // includes the terminating NUL libsodium writes
  sodium_bin2base64(out.data() + old_size, encoded, data, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
}

std::optional<bytes> decode_base64(std::string_view text) {
  bytes result(text.size() / 4 * 3 + 3);
  std::size_t length = 0;
  // b64_end == nullptr: any character outside the alphabet (or bad padding) is an error.
  if (sodium_base642bin(result.data(), result.size(), text.data(), text.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  result.resize(length);
  return result;
}

}  // namespace wampbox::wire::detail
