// The repository's test data (test/data, found through WAMPBOX_TEST_DATA_DIR).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace wampbox::test_data {

/// The .json files below test/data/wamp-testsuite/`folder`, sorted; REQUIREs at least one, so
/// a test over them can never pass on nothing.
inline std::vector<std::filesystem::path> testsuite_files(const char* folder) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(WAMPBOX_TEST_DATA_DIR) / "wamp-testsuite" / folder;
  REQUIRE_MESSAGE(fs::exists(root), root << " is missing (test/data is part of the repository)");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  return files;
}

}  // namespace wampbox::test_data
