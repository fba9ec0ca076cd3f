// wampbox — everything an application needs, in one include.
#pragma once

#include <wampbox/auth/authenticator.hpp>
#include <wampbox/auth/methods.hpp>
#include <wampbox/client/client.hpp>
#include <wampbox/codec/payload_codec.hpp>
#include <wampbox/error.hpp>
#include <wampbox/session/session.hpp>
#include <wampbox/session/types.hpp>
#include <wampbox/transport/transport.hpp>
#include <wampbox/version.hpp>
#include <wampbox/wire/message.hpp>
#include <wampbox/wire/serializer.hpp>
#include <wampbox/wire/value.hpp>
