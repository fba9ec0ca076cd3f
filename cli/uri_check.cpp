#include "uri_check.hpp"

#include <cstdint>
#include <vector>

namespace wampbox::cli {
namespace {

/// Python's `\s` for str (what Autobahn's loose pattern excludes): ASCII and Unicode white space.
bool is_space(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return true;
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/// Decodes UTF-8; nullopt for invalid input.
std::optional<std::vector<char32_t>> code_points(std::string_view text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int extra = lead < 0x80           ? 0
                      : (lead >> 5) == 0x6  ? 1
                      : (lead >> 4) == 0xe  ? 2
                      : (lead >> 3) == 0x1e ? 3
                                            : -1;  // continuation byte or invalid lead
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= text.size()) return std::nullopt;
    char32_t c = extra == 0 ? lead : lead & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return std::nullopt;
      c = (c << 6) | (next & 0x3f);
    }
    out.push_back(c);
    i += 1 + extra;
  }
  return out;
}

bool allowed(char32_t c, uri_rules rules) {
  if (rules == uri_rules::strict)
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  return c != '.' && c != '#' && !is_space(c);
}

}  // namespace

std::optional<std::string> uri_problem(std::string_view uri, match_policy match, uri_rules rules) {
  const auto chars = code_points(uri);
  if (!chars) return "it is not valid UTF-8";
  std::vector<std::size_t> lengths{0};  // of each component
  for (char32_t c : *chars) {
    if (c == '.') {
      lengths.push_back(0);
      continue;
    }
    if (!allowed(c, rules))
      return rules == uri_rules::strict
                 ? "strict URIs allow only a-z, 0-9, '_' and '.' between components"
                 : "URI components must not contain white space or '#'";
    ++lengths.back();
  }
  if (match == match_policy::wildcard) return std::nullopt;
  const auto last_allowed_empty = match == match_policy::prefix;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > 0 || (last_allowed_empty && i + 1 == lengths.size())) continue;
    return match == match_policy::prefix ? "only the last component of a prefix may be empty"
                                         : "URI components must not be empty";
  }
  return std::nullopt;
}

}  // namespace wampbox::cli
