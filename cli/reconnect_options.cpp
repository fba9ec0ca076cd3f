#include "reconnect_options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iostream>

namespace wampbox::cli {
namespace {

namespace asio = boost::asio;

void report_attempt(const attempt_failure& f) {
  std::cerr << "wampbox: attempt " << f.attempt << " to " << f.url
            << " failed: " << exception_message(f.error);
  if (f.giving_up)
    std::cerr << "; giving up\n";
  else
    std::cerr << "; next attempt in " << f.delay.count() << " ms\n";
}

}  // namespace

void add_reconnect_options(CLI::App& command, reconnect_options& into) {
  command.add_flag("--reconnect", into.enabled,
                   "keep going when the router goes away: reconnect with exponential backoff, "
                   "join again, subscribe or register again");
  command
      .add_option("--also-url", into.also_urls,
                  "with --reconnect: a further router URL (repeatable), tried in turn after "
                  "--url (fail-over between the nodes of a cluster)")
      ->needs("--reconnect");
  command
      .add_option("--max-attempts", into.max_attempts,
                  "with --reconnect: give up (exit 3) after N failed attempts in a row (0: never)")
      ->needs("--reconnect")
      ->capture_default_str();
  command
      .add_option("--max-delay", into.max_delay_s,
                  "with --reconnect: longest wait between attempts, seconds")
      ->needs("--reconnect")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void watch_connection(client& c, std::function<void(std::exception_ptr)> ended) {
  c.on_disconnect([](std::exception_ptr e) {
    std::cerr << "wampbox: connection lost (" << exception_message(e) << "); reconnecting\n";
  });
  c.on_attempt_failed([&c, ended = std::move(ended)](const attempt_failure& f) {
    report_attempt(f);
    // Why through async_wait_connected: the client completes it with its own reason for giving
    // up (errc::not_connected, "gave up after N attempts; ..."), once it has stopped.
    if (f.giving_up)
      c.async_wait_connected([ended](std::exception_ptr e, const welcome_info&) { ended(e); });
  });
}

asio::awaitable<void> run_reconnecting(const reconnect_options& options,
                                       transport::transport_options first, join_options join,
                                       std::shared_ptr<codec::payload_codec> codec,
                                       std::chrono::milliseconds timeout,
                                       std::function<asio::awaitable<void>(client&)> body) {
  client_options co;
  co.routers.push_back(first);
  for (const auto& url : options.also_urls) {
    auto more = first;
    more.url = url;
    co.routers.push_back(std::move(more));
  }
  co.join = std::move(join);
  co.codec = std::move(codec);
  co.timeout = timeout;
  co.backoff.max_attempts = options.max_attempts;
  co.backoff.max_delay =
      std::chrono::milliseconds(static_cast<long long>(options.max_delay_s * 1000));
  co.backoff.initial_delay = std::min(co.backoff.initial_delay, co.backoff.max_delay);
  client c(co_await asio::this_coro::executor, std::move(co));
  // Shared: the completion may come after this frame is gone (an exception in `body`).
  auto gave_up = std::make_shared<std::exception_ptr>();
  c.async_run([gave_up](std::exception_ptr e) { *gave_up = e; });
  c.on_attempt_failed(report_attempt);
  c.on_connect([](const welcome_info& w) {
    std::cerr << "wampbox: joined realm " << w.realm << " (session " << w.session_id << ")\n";
  });
  auto [error, welcome] = co_await c.async_wait_connected(asio::as_tuple(asio::use_awaitable));
  if (error) std::rethrow_exception(error);
  co_await body(c);
  // Its completion comes after that of async_run, which has then said whether it gave up.
  co_await c.async_leave("wamp.close.normal", asio::as_tuple(asio::use_awaitable));
  if (*gave_up) std::rethrow_exception(*gave_up);
}

}  // namespace wampbox::cli
