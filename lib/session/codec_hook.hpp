// wampbox — the session's side of the payload hook: the identity codec, and the one place
// where outgoing payloads are checked and encoded and incoming ones decoded.
#pragma once

#include <wampbox/codec/payload_codec.hpp>

#include <memory>

namespace wampbox::detail {

/// The codec of a session without one: payloads pass unchanged, nothing is announced.
std::shared_ptr<codec::payload_codec> identity_codec();

/// Checks what the application hands over (args an array or null, kwargs an object or null)
/// and encodes it; throws `error` (invalid_message) or the codec's `payload_error`.
wire::payload encode_payload(codec::payload_codec& codec, codec::payload_kind kind,
                             std::string_view uri, value& options, value args, value kwargs,
                             codec::call_context& call);

/// Decodes an incoming payload. An opaque payload the codec leaves alone (no codec, no key,
/// no `enc_algo` on a lax URI) is handed over as the single binary argument, so the application
/// sees exactly what the router saw, with or without a codec.
void decode_payload(codec::payload_codec& codec, codec::payload_kind kind, std::string_view uri,
                    const value& details, wire::payload& data, codec::call_context& call);

}  // namespace wampbox::detail
