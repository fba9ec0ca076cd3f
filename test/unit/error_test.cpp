// error.hpp: the message of an exception_ptr, as completion handlers receive it.
#include <wampbox/error.hpp>

#include <doctest/doctest.h>

#include <stdexcept>

using namespace wampbox;

TEST_CASE("exception_message: what() of the exception an exception_ptr holds, for users") {
  CHECK(exception_message(nullptr).empty());
  CHECK(exception_message(std::make_exception_ptr(std::runtime_error("disk full"))) == "disk full");
  CHECK(exception_message(std::make_exception_ptr(error(errc::not_connected, "gave up"))) ==
        "gave up: not connected to a router");
  CHECK(exception_message(std::make_exception_ptr(
            wamp_error("wamp.close.system_shutdown", nullptr, nullptr, errc::session_closed,
                       "router going down"))) == "wamp.close.system_shutdown: router going down");
  CHECK(exception_message(std::make_exception_ptr(42)) == "unknown error");
}
