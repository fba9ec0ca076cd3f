// wampbox CLI — `--reconnect` for the long-running commands (subscribe, register): a
// reconnecting client (wampbox::client) instead of a single session.
#pragma once

#include <wampbox/client/client.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wampbox::cli {

/// What the command line said about reconnecting.
struct reconnect_options {
  bool enabled = false;                ///< --reconnect
  std::vector<std::string> also_urls;  ///< --also-url: further routers, tried in turn
  std::size_t max_attempts = 0;        ///< --max-attempts (0: forever)
  double max_delay_s = 30;             ///< --max-delay, seconds
};

/// Adds --reconnect and its settings to a long-running command.
void add_reconnect_options(CLI::App& command, reconnect_options& into);

/// Connects a reconnecting client to `first` and the --also-url routers, runs `body` once it is
/// joined, then leaves. Reports connection changes on stderr. Throws the client's error
/// (errc::not_connected) when it gave up.
boost::asio::awaitable<void> run_reconnecting(
    const reconnect_options& options, transport::transport_options first, join_options join,
    std::shared_ptr<codec::payload_codec> codec, std::chrono::milliseconds timeout,
    std::function<boost::asio::awaitable<void>(client&)> body);

/// Makes `ended` run with the client's error (errc::not_connected) when it gives up (it
/// reconnects after every other loss), and reports each loss and failed attempt on stderr.
void watch_connection(client& c, std::function<void(std::exception_ptr)> ended);

}  // namespace wampbox::cli
