// Standard Base64 (RFC 4648 §4, '=' padded) for Autobahn's JSON binary convention.
// Why not libsodium's sodium_bin2base64: it is constant-time and about 10x slower, and this
// runs on the encryption hot path over ciphertext, which is public.
#include <array>

#include "internal.hpp"

namespace wampbox::wire::detail {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t invalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> t{};
  t.fill(invalid);
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}
constexpr auto decode_table = make_decode_table();

}  // namespace

void append_base64(const std::uint8_t* data, std::size_t size, std::string& out) {
  const std::size_t old_size = out.size();
  out.resize(old_size + (size + 2) / 3 * 4);
  char* p = out.data() + old_size;
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v =
        std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    *p++ = alphabet[v >> 18];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = alphabet[(v >> 6) & 63];
    *p++ = alphabet[v & 63];
  }
  if (const std::size_t rest = size - i; rest > 0) {
    const std::uint32_t v =
        std::uint32_t{data[i]} << 16 | (rest == 2 ? std::uint32_t{data[i + 1]} << 8 : 0);
    *p++ = alphabet[v >> 18];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
}

std::optional<bytes> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  bytes out(text.size() / 4 * 3 - padding);
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t full_groups = text.size() / 4 - (padding ? 1 : 0);
  std::size_t o = 0;
  for (std::size_t g = 0; g < full_groups; ++g, in += 4) {
    const std::uint8_t a = decode_table[in[0]], b = decode_table[in[1]], c = decode_table[in[2]],
                       d = decode_table[in[3]];
    if ((a | b | c | d) == invalid) return std::nullopt;  // any invalid entry sets all bits
    const std::uint32_t v =
        std::uint32_t{a} << 18 | std::uint32_t{b} << 12 | std::uint32_t{c} << 6 | d;
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    out[o++] = static_cast<std::uint8_t>(v >> 8);
    out[o++] = static_cast<std::uint8_t>(v);
  }
  if (padding) {  // last group: "xx==" or "xxx="
    const std::uint8_t a = decode_table[in[0]], b = decode_table[in[1]];
    const std::uint8_t c = padding == 1 ? decode_table[in[2]] : 0;
    if ((a | b | c) == invalid) return std::nullopt;
    const std::uint32_t v = std::uint32_t{a} << 18 | std::uint32_t{b} << 12 | std::uint32_t{c} << 6;
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    if (padding == 1) out[o++] = static_cast<std::uint8_t>(v >> 8);
  }
  return out;
}

}  // namespace wampbox::wire::detail
