#include "url.hpp"

#include <wampbox/error.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <sys/un.h>

namespace wampbox::transport::detail {
namespace {

[[noreturn]] void fail(std::string_view url, std::string_view reason) {
  throw error(errc::invalid_url,
              "invalid transport URL '" + std::string(url) + "': " + std::string(reason));
}

// Host and port of a TCP URL; `default_port` 0 means the port is mandatory.
void parse_authority(std::string_view url, const boost::urls::url_view& u,
                     std::uint16_t default_port, endpoint_url& out) {
  if (u.has_userinfo()) fail(url, "user credentials in the URL are not supported");
  out.host = u.host_address();
  if (out.host.empty()) fail(url, "missing host");
  if (u.has_port()) {
    // port_number() is 0 when the digits do not fit 16 bits.
    out.port = u.port_number();
    if (out.port == 0) fail(url, "port must be 1..65535");
  } else if (default_port != 0) {
    out.port = default_port;
  } else {
    fail(url, "missing port");
  }
  out.host_header = std::string(u.encoded_host()) + ":" + std::to_string(out.port);
}

}  // namespace

endpoint_url parse_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) fail(url, "not an absolute URI (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;
  if (u.has_fragment()) fail(url, "fragments are not allowed");

  endpoint_url out;
  const auto scheme = u.scheme_id();
  const std::string_view scheme_text = u.scheme();
  if (scheme == boost::urls::scheme::ws || scheme == boost::urls::scheme::wss) {
    out.kind = url_kind::websocket;
    out.tls = scheme == boost::urls::scheme::wss;
    parse_authority(url, u, out.tls ? 443 : 80, out);
    out.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  } else if (scheme_text == "rs" || scheme_text == "tcp" || scheme_text == "rss") {
    out.kind = url_kind::rawsocket_tcp;
    out.tls = scheme_text == "rss";
    parse_authority(url, u, 0, out);
    if (!(u.encoded_path().empty() || u.encoded_path() == "/") || u.has_query())
      fail(url, "RawSocket URLs take no path or query");
  } else if (scheme_text == "unix") {
    out.kind = url_kind::rawsocket_unix;
    if (!u.has_authority() || !u.encoded_host().empty() || u.has_port() || u.has_userinfo())
      fail(url, "a Unix socket URL has an empty host: unix:///absolute/path");
    if (u.has_query()) fail(url, "Unix socket URLs take no query");
    out.unix_path = u.path();
    if (out.unix_path.size() < 2 || out.unix_path.front() != '/')
      fail(url, "a Unix socket URL needs an absolute path: unix:///absolute/path");
    // The path must fit sockaddr_un::sun_path including its terminating NUL.
    if (out.unix_path.size() >= sizeof(sockaddr_un::sun_path))
      fail(url, "Unix socket path too long");
  } else {
    fail(url, "unsupported scheme '" + std::string(scheme_text) +
                  "' (use ws://, wss://, rs://, rss://, tcp:// or unix://)");
  }
  return out;
}

}  // namespace wampbox::transport::detail
