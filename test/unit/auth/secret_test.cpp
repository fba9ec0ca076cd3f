// auth::secret: from a value, an owner-only file or an environment variable; refusals.
#include <wampbox/auth/authenticator.hpp>
#include <wampbox/error.hpp>

#include "../codec/codec_test_util.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

using namespace wampbox;
using wampbox::codec::test::temp_dir;

TEST_CASE("secret from a value, a file (one trailing line break dropped) and the environment") {
  CHECK(auth::secret("s3cret").reveal() == "s3cret");
  temp_dir dir;
  const auto write = [&](const char* name, const std::string& text) {
    const auto path = dir.path() / name;
    std::ofstream(path) << text;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read);
    return path;
  };
  CHECK(auth::secret::from_file(write("a", "ticket\n")).reveal() == "ticket");
  CHECK(auth::secret::from_file(write("b", "ticket\r\n")).reveal() == "ticket");
  CHECK(auth::secret::from_file(write("c", "two\nlines\n\n")).reveal() == "two\nlines\n");
  CHECK_THROWS_AS(auth::secret::from_file(write("d", "\n")), error);
  CHECK_THROWS_AS(auth::secret::from_file(dir.path() / "missing"), error);
  const auto open = dir.path() / "open";
  std::ofstream(open) << "x";
  std::filesystem::permissions(
      open, std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
  try {
    auth::secret::from_file(open);
    FAIL("a world-readable secret file was accepted");
  } catch (const error& e) {
    CHECK(e.code() == boost::system::errc::permission_denied);
  }

  ::setenv("WAMPBOX_TEST_SECRET", "from-env", 1);
  CHECK(auth::secret::from_env("WAMPBOX_TEST_SECRET").reveal() == "from-env");
  ::setenv("WAMPBOX_TEST_SECRET", "", 1);
  CHECK_THROWS_AS(auth::secret::from_env("WAMPBOX_TEST_SECRET"), error);
  ::unsetenv("WAMPBOX_TEST_SECRET");
  try {
    auth::secret::from_env("WAMPBOX_TEST_SECRET");
    FAIL("an unset variable gave a secret");
  } catch (const error& e) {
    CHECK(std::string(e.what()).find("WAMPBOX_TEST_SECRET") != std::string::npos);
  }
}
