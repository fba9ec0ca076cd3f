// wampbox — who sent a payload, as a codec that authenticates senders (secure mode) tells it.
#pragma once

#include <string>

namespace wampbox::codec {

/// The authenticated sender of a payload: its signature verified against a key the receiver's
/// key ring lists (secure mode, docs/secure-mode.md). Never set from anything a router can alter.
struct payload_sender {
  std::string name;        ///< the name the receiver's key ring gives this sender
  std::string public_key;  ///< the sender's Ed25519 public key, Base64
  friend bool operator==(const payload_sender&, const payload_sender&) = default;
};

}  // namespace wampbox::codec
