// wampbox — everything an application needs, in one include. The WAMP messages and the
// serializers (wire/message.hpp, wire/serializer.hpp: for custom transports and tools) are not
// part of it: an application never needs them, and every translation unit would parse them.
#pragma once

#include <wampbox/auth/authenticator.hpp>
#include <wampbox/auth/methods.hpp>
#include <wampbox/client/client.hpp>
#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/session/meta.hpp>
#include <wampbox/session/session.hpp>
#include <wampbox/session/types.hpp>
#include <wampbox/transport/transport.hpp>
#include <wampbox/version.hpp>
#include <wampbox/wire/payload.hpp>
#include <wampbox/wire/serializer_kind.hpp>
#include <wampbox/wire/value.hpp>
