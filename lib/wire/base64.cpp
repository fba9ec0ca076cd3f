// Standard Base64 (RFC 4648 §4, '=' padded) for Autobahn's JSON binary convention.
// Why not libsodium's sodium_bin2base64: it is constant-time and about 10x slower, and this
// runs on the encryption hot path over ciphertext, which is public.
// Both directions are table driven: encoding maps 12 bits to two characters at once, decoding
// ORs four per-position tables into the 24 output bits, an invalid character setting bit 24.
// Long texts decode 16 characters at a time: with SSSE3's byte shuffles where the processor has
// them (nearly every x86-64), else with the compiler's portable vectors (SSE2, NEON on arm64).
#include <array>
#include <bit>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WAMPBOX_BASE64_SSSE3 1  // chosen at run time: x86-64's baseline is SSE2 only
#else
#define WAMPBOX_BASE64_SSSE3 0
#endif

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

using chars16 = unsigned char __attribute__((vector_size(16)));
using signed16 = signed char __attribute__((vector_size(16)));
using words4 = std::uint32_t __attribute__((vector_size(16)));
using longs2 = std::uint64_t __attribute__((vector_size(16)));

/// All-ones for each character in [lo, hi]. Why the detour: SSE2 compares only signed bytes, so
/// the range is moved to start at -128 and one signed "less than" tests it.
inline chars16 in_range(chars16 c, unsigned char lo, unsigned char hi) noexcept {
  const auto moved = reinterpret_cast<signed16>(c + static_cast<unsigned char>(0x80 - lo));
  return reinterpret_cast<chars16>(moved < static_cast<signed char>(hi - lo + 1 - 0x80));
}

/// Decodes 16 characters at `in` (four groups) into 12 bytes at `o`, and writes two bytes more
/// (the caller leaves room for them and overwrites them later). Clears bytes of `all_valid`
/// where a character is outside the alphabet (then the output is meaningless).
inline void decode_block(const unsigned char* in, std::uint8_t* o, chars16& all_valid) noexcept {
  chars16 c;
  std::memcpy(&c, in, sizeof c);
  // Each character's class, then the offset that turns it into its 6 bits.
  const chars16 upper = in_range(c, 'A', 'Z');  // 0..25
  const chars16 lower = in_range(c, 'a', 'z');  // 26..51
  const chars16 digit = in_range(c, '0', '9');  // 52..61
  const chars16 plus = reinterpret_cast<chars16>(c == '+');
  const chars16 slash = reinterpret_cast<chars16>(c == '/');
  const auto offset = [](unsigned char from, unsigned char to) {
    return static_cast<unsigned char>(to - from);  // added modulo 256
  };
  const chars16 sextets =
      c + ((upper & offset('A', 0)) | (lower & offset('a', 26)) | (digit & offset('0', 52)) |
           (plus & offset('+', 62)) | (slash & offset('/', 63)));
  all_valid &= upper | lower | digit | plus | slash;
  // Per group of four (one 32-bit lane, first character lowest): its 24 bits, first highest,
  // then those 3 bytes in output order, then the four groups' bytes side by side (12 bytes).
  const auto w = reinterpret_cast<words4>(sextets);
  const words4 v = ((w & 0x3F) << 18) | ((w & 0x3F00) << 4) | ((w >> 10) & 0xFC0) | (w >> 24);
  const words4 in_order = ((v >> 16) & 0xFF) | (v & 0xFF00) | ((v & 0xFF) << 16);
  const auto pairs = reinterpret_cast<longs2>(in_order);
  const longs2 packed = (pairs & 0xFFFFFF) | ((pairs >> 8) & 0xFFFFFF000000);
  std::uint64_t halves[2];
  std::memcpy(halves, &packed, sizeof halves);
  std::memcpy(o, &halves[0], 8);
  std::memcpy(o + 6, &halves[1], 8);
}

#if WAMPBOX_BASE64_SSSE3
/// decode_blocks with SSSE3: for each block of 16 characters, two nibble lookups find the
/// characters outside the alphabet and a third the offset to their 6 bits; two multiply-adds pack
/// them and a shuffle puts the 12 bytes in order. The algorithm and tables of Muła and Lemire
/// ("Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018) as aklomp/base64
/// (BSD-2-Clause) writes them. Stops before the first block with a character outside the
/// alphabet: the number of blocks decoded.
__attribute__((target("ssse3"))) std::size_t decode_blocks_ssse3(const unsigned char* in,
                                                                 std::uint8_t* o,
                                                                 std::size_t blocks) noexcept {
  const __m128i lut_lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                       0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m128i lut_hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                                       0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m128i lut_roll = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i mask_2f = _mm_set1_epi8(0x2F);
  const __m128i in_order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  std::size_t done = 0;
  for (; done < blocks; ++done, in += 16, o += 12) {
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    const __m128i hi_nibbles = _mm_and_si128(_mm_srli_epi32(c, 4), mask_2f);
    const __m128i lo_nibbles = _mm_and_si128(c, mask_2f);
    const __m128i hi = _mm_shuffle_epi8(lut_hi, hi_nibbles);
    const __m128i lo = _mm_shuffle_epi8(lut_lo, lo_nibbles);
    if (_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_and_si128(lo, hi), _mm_setzero_si128())) != 0) break;
    const __m128i eq_2f = _mm_cmpeq_epi8(c, mask_2f);
    c = _mm_add_epi8(c, _mm_shuffle_epi8(lut_roll, _mm_add_epi8(eq_2f, hi_nibbles)));
    const __m128i pairs = _mm_maddubs_epi16(c, _mm_set1_epi32(0x01400140));
    const __m128i groups = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
    const __m128i bytes12 = _mm_shuffle_epi8(groups, in_order);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o), bytes12);
    const auto last4 = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(bytes12, 8)));
    std::memcpy(o + 8, &last4, 4);
  }
  return done;
}

bool has_ssse3() noexcept {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0;
  }();
  return yes;
}
#endif

/// Decodes as many whole blocks of 16 characters (4 groups) from the start of `in` as the vector
/// code takes, out of `full_groups` groups without padding: the number of groups decoded, or
/// nullopt when a character is outside the alphabet. The tables decode the rest.
std::optional<std::size_t> decode_blocks(const unsigned char* in, std::uint8_t* o,
                                         std::size_t full_groups) noexcept {
#if WAMPBOX_BASE64_SSSE3
  if (has_ssse3()) return 4 * decode_blocks_ssse3(in, o, full_groups / 4);  // see its stop
#endif
  if constexpr (std::endian::native != std::endian::little) return 0;  // decode_block's lanes
  // Four groups at a time while a full group follows to take the two extra bytes written.
  chars16 all_valid = ~chars16{};
  std::size_t g = 0;
  for (; g + 4 < full_groups; g += 4, in += 16, o += 12) decode_block(in, o, all_valid);
  std::uint64_t valid[2];
  std::memcpy(valid, &all_valid, sizeof valid);
  if ((valid[0] & valid[1]) != ~std::uint64_t{0}) return std::nullopt;
  return g;
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
  const std::optional<std::size_t> in_blocks = decode_blocks(in, o, full_groups);
  if (!in_blocks) return std::nullopt;
  std::size_t g = *in_blocks;
  in += 4 * g;
  o += 3 * g;
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
