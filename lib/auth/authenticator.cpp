// The authentication building blocks: secrets, replies, exchanges, authenticators.
#include "auth_internal.hpp"

#include "../codec/sodium_util.hpp"
#include "../private_file.hpp"

#include <wampbox/error.hpp>

#include <atomic>
#include <cstdlib>

namespace wampbox::auth {

namespace detail {

std::string to_hex(std::string_view data) {
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  out.pop_back();  // the terminating NUL
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, &end) != 0 ||
      end != hex.data() + hex.size() || len != out.size()) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

std::string to_base64(std::string_view data) {
  return codec::detail::to_base64(reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::optional<std::string> from_base64(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

/// The state all copies of a reply share.
struct pending_reply {
  std::function<void(std::exception_ptr, std::string, value)> deliver;
  std::atomic<bool> answered{false};

  /// True for the first answer only.
  bool claim() noexcept { return !answered.exchange(true); }
  ~pending_reply() {
    if (claim())
      deliver(std::make_exception_ptr(error(errc::authentication_failed,
                                            "the challenge handler dropped the challenge "
                                            "without an answer")),
              {}, nullptr);
  }
};

}  // namespace detail

// ---------------------------------------------------------------- secret

secret::secret(std::string value) {
  codec::detail::ensure_sodium();
  bytes_ = std::make_shared<const detail::secret_bytes>(std::string(value));
  sodium_memzero(value.data(), value.size());
}

secret secret::from_file(const std::filesystem::path& path) {
  std::string text = wampbox::detail::read_private_file(path, "secret file", true);
  const detail::scoped_wipe wipe_text(text);
  std::string_view content = text;
  if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  if (content.empty()) throw error(errc::invalid_key, "secret file " + path.string() + " is empty");
  return secret(std::string(content));
}

secret secret::from_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0')
    throw error(errc::invalid_key, "environment variable " + name + " is not set or empty");
  return secret(std::string(v));
}

std::string_view secret::reveal() const noexcept { return bytes_->bytes; }

// ---------------------------------------------------------------- reply

reply::reply(std::function<void(std::exception_ptr, std::string, value)> deliver)
    : state_(std::make_shared<detail::pending_reply>()) {
  state_->deliver = std::move(deliver);
}

void reply::answer(std::string signature, value extra) const {
  if (!extra.is_object()) {
    fail(std::make_exception_ptr(
        error(errc::authentication_failed, "AUTHENTICATE extra must be an object")));
    return;
  }
  if (state_->claim()) state_->deliver(nullptr, std::move(signature), std::move(extra));
}

void reply::fail(std::exception_ptr why) const {
  if (state_->claim()) state_->deliver(std::move(why), {}, nullptr);
}

// ---------------------------------------------------------------- exchange, authenticator

exchange::~exchange() = default;

value exchange::hello_authextra() const { return value::object(); }

void exchange::verify_welcome(const value&) {}

authenticator::authenticator(std::string method, std::string authid, starter start)
    : method_(std::move(method)), authid_(std::move(authid)), start_(std::move(start)) {
  if (method_.empty()) throw error(errc::invalid_message, "authentication method name is empty");
  if (!start_) throw error(errc::invalid_message, "authenticator without an exchange starter");
}

std::unique_ptr<exchange> authenticator::start(const channel& ch) const { return start_(ch); }

}  // namespace wampbox::auth
