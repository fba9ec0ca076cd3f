// The repository's test data (test/data, found through WAMPBOX_TEST_DATA_DIR).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace wampbox::test_data {

/// `relative` below test/data; REQUIREs that it exists (the data is part of the repository).
inline std::filesystem::path file(const std::filesystem::path& relative) {
  const auto path = std::filesystem::path(WAMPBOX_TEST_DATA_DIR) / relative;
  REQUIRE_MESSAGE(std::filesystem::exists(path),
                  path << " is missing (test/data is part of the repository)");
  return path;
}

/// Autobahn|Python's cryptobox vectors (test/data/cryptobox/cryptobox_vectors.out.txt).
inline std::filesystem::path cryptobox_vectors() {
  return file(std::filesystem::path("cryptobox") / "cryptobox_vectors.out.txt");
}

/// The .json files below test/data/wamp-testsuite/`folder`, sorted; REQUIREs at least one, so
/// a test over them can never pass on nothing.
inline std::vector<std::filesystem::path> testsuite_files(const char* folder) {
  namespace fs = std::filesystem;
  const fs::path root = file(fs::path("wamp-testsuite") / folder);
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  return files;
}

}  // namespace wampbox::test_data
