// wampbox CLI — URI checks before anything is sent (the WAMP spec's rules, as Autobahn|Python and
// so Crossbar.io apply them: a URI they refuse closes the connection instead of answering).
#pragma once

#include <wampbox/session/types.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace wampbox::cli {

/// Which of the spec's URI rules to apply.
enum class uri_rules {
  loose,   ///< components free of whitespace, '.' and '#' (what routers accept by default)
  strict,  ///< components of lower-case letters, digits and '_' only (the spec's SHOULD)
};

/// What is wrong with `uri` as a topic or procedure under `match` (exact: no empty component;
/// prefix: only the last may be empty; wildcard: any may be empty), or nullopt when it is fine.
std::optional<std::string> uri_problem(std::string_view uri, match_policy match, uri_rules rules);

}  // namespace wampbox::cli
