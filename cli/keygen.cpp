#include "commands.hpp"

#include <wampbox/codec/key_ring.hpp>
#include <wampbox/wire/serializer.hpp>

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace wampbox::cli {

namespace {

/// Writes a new file readable by its owner only; refuses to overwrite an existing one.
bool write_private_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "wampbox: cannot create " << path << ": " << std::strerror(errno) << '\n';
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) std::cerr << "wampbox: cannot write " << path << '\n';
  return ok;
}

}  // namespace

int run_keygen(const keygen_options& opts, std::ostream& out) {
  const auto pair = codec::generate_key_pair();
  // Built by hand (Base64 needs no escaping) so the one buffer holding the secret is wiped.
  std::string text;
  if (opts.shared_prefix) {
    // One private key for both roles: every holder can publish, subscribe, call and answer,
    // like Autobahn's KeyRing("b64priv").
    text = "{";
    wire::write_json(*opts.shared_prefix, text);
    text += ":{\"originator_priv\":\"" + pair.private_key + "\",\"responder_priv\":\"" +
            pair.private_key + "\",\"policy\":\"strict\"}}\n";
  } else {
    text = "{\"private_key\":\"" + pair.private_key + "\",\"public_key\":\"" + pair.public_key +
           "\"}\n";
  }
  int code = exit_ok;
  if (opts.out_file.empty())
    out << text << std::flush;
  else if (!write_private_file(opts.out_file, text))
    code = exit_failure;
  sodium_memzero(text.data(), text.size());
  return code;
}

}  // namespace wampbox::cli
