// Standard Base64 (RFC 4648 §4, '=' padded) for Autobahn's JSON binary convention.
// Why not libsodium's sodium_bin2base64: it is constant-time and about 10x slower, and this
// runs on the encryption hot path over ciphertext, which is public.
// Both directions are table driven: encoding maps 12 bits to two characters at once, decoding
// ORs four per-position tables into the 24 output bits, an invalid character setting bit 24.
#include <array>

#include "internal.hpp"

namespace wampbox::wire::detail {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two Base64 characters for every 12-bit value.
constexpr std::array<std::array<char, 2>, 4096> make_pair_table() {
  std::array<std::array<char, 2>, 4096> t{};
  for (std::size_t v = 0; v < 4096; ++v) t[v] = {alphabet[v >> 6], alphabet[v & 63]};
  return t;
}
constexpr auto pair_table = make_pair_table();

constexpr std::uint32_t invalid = 1U << 24;

/// For the character at `position` (0..3) of a group: its 6 bits placed in the group's 24-bit
/// value, or `invalid`.
constexpr std::array<std::uint32_t, 256> make_decode_table(int position) {
  std::array<std::uint32_t, 256> t{};
  t.fill(invalid);
  for (std::uint32_t i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(alphabet[i])] = i << (18 - 6 * position);
  return t;
}
constexpr std::array<std::array<std::uint32_t, 256>, 4> decode_tables = {
    make_decode_table(0), make_decode_table(1), make_decode_table(2), make_decode_table(3)};

/// The 24-bit value of four characters, with `invalid` set when any is not in the alphabet.
inline std::uint32_t decode_group(const unsigned char* in) noexcept {
  return decode_tables[0][in[0]] | decode_tables[1][in[1]] | decode_tables[2][in[2]] |
         decode_tables[3][in[3]];
}

/// Stores the three bytes of a group's 24-bit value.
inline void put_group(std::uint8_t* o, std::uint32_t v) noexcept {
  o[0] = static_cast<std::uint8_t>(v >> 16);
  o[1] = static_cast<std::uint8_t>(v >> 8);
  o[2] = static_cast<std::uint8_t>(v);
}

}  // namespace

void append_base64(const std::uint8_t* data, std::size_t size, std::string& out) {
  const std::size_t old_size = out.size();
  out.resize(old_size + (size + 2) / 3 * 4);
  char* p = out.data() + old_size;
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3, p += 4) {
    const std::uint32_t v =
        std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    std::memcpy(p, pair_table[v >> 12].data(), 2);
    std::memcpy(p + 2, pair_table[v & 0xfff].data(), 2);
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
  std::uint8_t* o = out.data();  // a local pointer: stores through it cannot move out.data()
  const std::size_t full_groups = text.size() / 4 - (padding ? 1 : 0);
  // Any invalid character sets `invalid` here; checked once at the end, not per group.
  std::uint32_t seen_invalid = 0;
  std::size_t g = 0;
  for (; g + 2 <= full_groups; g += 2, in += 8, o += 6) {  // two groups: 48 bits, 6 bytes
    const std::uint32_t a = decode_group(in), b = decode_group(in + 4);
    seen_invalid |= a | b;
    put_group(o, a);
    put_group(o + 3, b);
  }
  if (g < full_groups) {
    const std::uint32_t v = decode_group(in);
    seen_invalid |= v;
    put_group(o, v);
    in += 4;
    o += 3;
  }
  if (seen_invalid & invalid) return std::nullopt;
  if (padding) {  // last group: "xx==" or "xxx="; '=' decodes as invalid, so replace it by 'A'
    const unsigned char filler = 'A';
    const unsigned char last[4] = {in[0], in[1], padding == 1 ? in[2] : filler, filler};
    const std::uint32_t v = decode_group(last);
    if (v & invalid) return std::nullopt;
    o[0] = static_cast<std::uint8_t>(v >> 16);
    if (padding == 1) o[1] = static_cast<std::uint8_t>(v >> 8);
  }
  return out;
}

}  // namespace wampbox::wire::detail
