// The run-time version compiled into libwampbox against the compile-time macros of the headers
// (found in the build tree, where meson generates version.hpp) and the project's meson.build.
#include <doctest/doctest.h>
#include <wampbox/version.hpp>

#include <fstream>
#include <iterator>
#include <string>

TEST_CASE("version: the library reports the version of its headers") {
  CHECK(wampbox::version() == WAMPBOX_VERSION_STRING);
  CHECK(wampbox::version() == wampbox::version_string);
  CHECK(wampbox::version_major() == WAMPBOX_VERSION_MAJOR);
  CHECK(wampbox::version_minor() == WAMPBOX_VERSION_MINOR);
  CHECK(wampbox::version_patch() == WAMPBOX_VERSION_PATCH);
}

TEST_CASE("version: the string is MAJOR.MINOR.PATCH of the numeric parts") {
  const std::string expected = std::to_string(wampbox::version_major()) + '.' +
                               std::to_string(wampbox::version_minor()) + '.' +
                               std::to_string(wampbox::version_patch());
  CHECK(wampbox::version() == expected);
}

TEST_CASE("version: the library's version is the one meson.build declares") {
  std::ifstream in(WAMPBOX_SOURCE_DIR "/meson.build");
  REQUIRE_MESSAGE(in, "cannot read " WAMPBOX_SOURCE_DIR "/meson.build");
  const std::string build_file{std::istreambuf_iterator<char>(in), {}};
  // project('wampbox', 'cpp', version : 'X.Y.Z', ...)
  const std::string key = "version : '";
  const auto start = build_file.find(key);
  REQUIRE(start != std::string::npos);
  const auto end = build_file.find('\'', start + key.size());
  REQUIRE(end != std::string::npos);
  CHECK(wampbox::version() == build_file.substr(start + key.size(), end - start - key.size()));
}
