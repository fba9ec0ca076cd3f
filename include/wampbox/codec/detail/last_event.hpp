// wampbox — internal to the payload codecs, not part of the API: the EVENT a codec accepted last.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace wampbox::codec::detail {

/// The EVENT a codec accepted last, by its payload's identity (a nonce, or sender, stream and
/// sequence), publication id and topic. Why: a router delivers one publication once to each of
/// a session's matching subscriptions (overlapping subscriptions), the same payload each time,
/// one right after the other; a codec accepts that repeat, and no other, though its replay check
/// would refuse it.
class last_event {
 public:
  /// The longest identity remembered.
  static constexpr std::size_t max_identity = 32;

  /// Remembers the EVENT just accepted. `identity` is at most max_identity bytes.
  void remember(std::span<const unsigned char> identity, std::uint64_t publication,
                std::string_view topic) {
    size_ = identity.size() < max_identity ? identity.size() : max_identity;
    std::memcpy(identity_.data(), identity.data(), size_);
    publication_ = publication;
    topic_.assign(topic);  // assign: no allocation once the topic fits
  }

  /// True when an EVENT repeats the one accepted last: the same identity, topic and publication
  /// id, which must be known (not 0).
  bool repeated_by(std::span<const unsigned char> identity, std::uint64_t publication,
                   std::string_view topic) const noexcept {
    return publication != 0 && publication == publication_ && identity.size() == size_ &&
           std::memcmp(identity.data(), identity_.data(), size_) == 0 && topic == topic_;
  }

 private:
  std::array<unsigned char, max_identity> identity_{};
  std::size_t size_ = 0;
  std::uint64_t publication_ = 0;
  std::string topic_;
};

}  // namespace wampbox::codec::detail
