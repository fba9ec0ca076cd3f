// wampbox — reading files that hold secrets (key rings, authentication secrets, private keys).
#pragma once

#include <filesystem>
#include <string>

namespace wampbox::detail {

/// The content of the regular file `path`; `what` names it in errors (e.g. "key ring file").
/// With `owner_only`, a file that group or others may access is refused (permission_denied,
/// naming the fix). The caller wipes the returned text when done; on failure nothing read is
/// left behind.
std::string read_private_file(const std::filesystem::path& path, const std::string& what,
                              bool owner_only);

}  // namespace wampbox::detail
