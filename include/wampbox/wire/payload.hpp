// wampbox — WAMP ids and the application payload: the part of the wire that applications and
// payload codecs see (the messages themselves are in wire/message.hpp).
#pragma once

#include <wampbox/wire/value.hpp>

#include <cstdint>
#include <optional>

namespace wampbox::wire {

/// WAMP ids (session, request, subscription, ...) are integers in [1, 2^53].
using id = std::uint64_t;

/// The application payload of PUBLISH/EVENT/CALL/INVOCATION/YIELD/RESULT/ERROR/ABORT.
struct payload {
  value args = nullptr;    ///< positional arguments: an array, or null when absent
  value kwargs = nullptr;  ///< keyword arguments: an object, or null when absent
  std::optional<bytes> opaque =
      std::nullopt;  ///< payload transparency: the bare binary replacing both

  /// True when neither arguments nor an opaque payload are present.
  bool empty() const noexcept { return args.is_null() && kwargs.is_null() && !opaque; }
  friend bool operator==(const payload&, const payload&) = default;
};

}  // namespace wampbox::wire
