// wampbox — internal helpers of the key-ring file readers (cryptobox rings and secure rings).
#pragma once

#include <wampbox/codec/key_ring.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace wampbox::codec::detail {

/// Parses a JSON document that may hold secrets; throws `error` (errc::invalid_key) naming only
/// the byte offset of a syntax error (the parser's message would quote key material).
nlohmann::json parse_secret_json(std::string_view json_text, std::string_view source);

/// Builds a cryptobox ring from a document of the `parse_key_ring` format (not wiped here).
key_ring build_key_ring(const nlohmann::json& doc, std::string_view source);

/// Wipes every private-key string of a cryptobox key-ring document.
void wipe_private_fields(nlohmann::json& doc) noexcept;

/// Reads a key-ring file whole, refusing (with `check` enforce) one that group or others can
/// access; throws `error` as `load_key_ring`. The caller wipes the text.
std::string read_secret_file(const std::filesystem::path& path, permission_check check);

}  // namespace wampbox::codec::detail
