#include "commands.hpp"

#include "exec.hpp"

#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/wampbox.hpp>
#include <wampbox/wire/serializer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace wampbox::cli {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::use_awaitable;

/// A command-line failure: message for stderr plus exit code.
struct failure {
  int code;
  std::string message;
};

/// An ARG is JSON when it parses as JSON, else a plain string.
value parse_arg(const std::string& text) {
  try {
    return wire::read_json(text);
  } catch (const protocol_error&) {
    return text;
  }
}

value positional(const std::vector<std::string>& args) {
  if (args.empty()) return nullptr;
  value out = value::array();
  for (const auto& a : args) out.push_back(parse_arg(a));
  return out;
}

value keywords(const std::vector<std::string>& pairs) {
  if (pairs.empty()) return nullptr;
  value out = value::object();
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw failure{exit_usage, "--kw expects KEY=VALUE, got '" + p + "'"};
    out[p.substr(0, eq)] = parse_arg(p.substr(eq + 1));
  }
  return out;
}

/// One output line: {"args":…,"kwargs":…,"details":…}, with "sender": {"name","public_key"}
/// when secure mode authenticated the sender.
void print_line(const value& args, const value& kwargs, const value& details,
                const std::optional<codec::payload_sender>& sender = std::nullopt) {
  std::string line;
  value out{{"args", args}, {"kwargs", kwargs}, {"details", details}};
  if (sender) out["sender"] = {{"name", sender->name}, {"public_key", sender->public_key}};
  wire::write_json(out, line);
  std::cout << line << std::endl;  // flushed per line: consumers read events as they come
}

std::chrono::milliseconds timeout_of(const session_options& o) {
  return std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
}

/// Waits until `done` is canceled (the command finished) or SIGINT/SIGTERM arrives.
asio::awaitable<void> until_done_or_signal(asio::steady_timer& done) {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  co_await (done.async_wait(asio::as_tuple(use_awaitable)) ||
            signals.async_wait(asio::as_tuple(use_awaitable)));
}

asio::awaitable<void> do_publish(session& s, const command_options& o) {
  publish_options po = o.publish;
  if (!o.eligible.empty()) po.eligible = o.eligible;
  if (!o.eligible_authid.empty()) po.eligible_authid = o.eligible_authid;
  if (!o.eligible_authrole.empty()) po.eligible_authrole = o.eligible_authrole;
  auto id = co_await s.async_publish(o.uri, positional(o.args), keywords(o.kwargs), po);
  if (id) {  // acknowledged: the router confirmed it
    std::cerr << "published " << *id << '\n';
    co_return;
  }
  // Unacknowledged, the event only went into the connection: the GOODBYE handshake tells
  // whether the router was still there to take it.
  auto [left] = co_await s.async_leave("wamp.close.normal", asio::as_tuple(use_awaitable));
  if (left)
    throw failure{exit_failure,
                  "the router ended the session before the publication was confirmed: " +
                      exception_message(left)};
}

asio::awaitable<void> do_call(session& s, const command_options& o) {
  call_options co;
  co.disclose_me = o.disclose_me;
  if (o.progress)
    co.on_progress = [](const call_result& r) {
      print_line(r.args, r.kwargs, r.details, r.sender);
    };
  auto result = co_await s.async_call(o.uri, positional(o.args), keywords(o.kwargs), co);
  print_line(result.args, result.kwargs, result.details, result.sender);
}

/// State of a long-running command, shared with the session's handlers: they may still be
/// called after the command's coroutine frame is gone (until the session has left).
struct listening {
  listening(asio::any_io_executor ex, std::size_t wanted_)
      : done(std::move(ex), asio::steady_timer::time_point::max()), wanted(wanted_) {}
  asio::steady_timer done;  ///< canceled when the command is complete or cannot go on
  std::size_t count = 0;    ///< events printed or calls answered
  std::size_t wanted;       ///< --count (0: until a signal)
  std::exception_ptr lost;  ///< why the session ended before the command was complete

  bool complete() const { return wanted && count >= wanted; }
  /// One more event printed or call answered.
  void counted() {
    if (++count == wanted) done.cancel();
  }
  /// The session ended (or the reconnecting client gave up) for `why`: unless the command is
  /// complete, it fails with that.
  void end(std::exception_ptr why) {
    if (complete()) return;
    lost = why;
    done.cancel();
  }
  /// Waits until the command is complete, a signal stops it (a normal end), or the session
  /// ended (thrown).
  asio::awaitable<void> wait() {
    co_await until_done_or_signal(done);
    if (lost) std::rethrow_exception(lost);
  }
};

/// Makes `ended` run with the reason when the router ends the session or the connection is lost
/// (the reconnecting client's: reconnect_options.hpp). A null reason is the command's own leave.
using cli::watch_connection;
void watch_connection(session& s, std::function<void(std::exception_ptr)> ended) {
  s.on_disconnect([ended = std::move(ended)](std::exception_ptr reason) {
    if (reason) ended(reason);
  });
}

/// Also for a reconnecting client (`Peer` is then wampbox::client).
template <typename Peer>
asio::awaitable<void> do_subscribe(Peer& s, const command_options& o) {
  auto state = std::make_shared<listening>(s.get_executor(), o.count);
  subscribe_options so;
  so.match = o.match;
  so.get_retained = o.get_retained;
  s.on_event_error([](const std::string& topic, std::exception_ptr e) {
    std::cerr << "wampbox: event on " << topic << " rejected: " << exception_message(e) << '\n';
  });
  watch_connection(s, [state](std::exception_ptr why) { state->end(why); });
  auto on_event = [state](const event& ev) {
    if (state->complete()) return;  // exactly N lines, even if more arrive
    print_line(ev.args, ev.kwargs, ev.details, ev.sender);
    state->counted();
  };
  co_await s.async_subscribe(o.uri, on_event, so);
  std::cerr << "subscribed to " << o.uri << '\n';
  co_await state->wait();
}

template <typename Peer>
asio::awaitable<void> do_register(Peer& s, const command_options& o) {
  auto state = std::make_shared<listening>(s.get_executor(), o.count);
  watch_connection(s, [state](std::exception_ptr why) { state->end(why); });
  // Counted once answered: with --count the command leaves after its last answer went out.
  auto answered = [state] { state->counted(); };
  auto answer = [answered, o, ex = s.get_executor()](invocation inv, responder r) {
    if (!o.exec.empty()) return answer_by_command(o.exec, inv, std::move(r), ex, answered);
    call_result echo;
    echo.args = std::move(inv.args);
    echo.kwargs = std::move(inv.kwargs);
    r.yield(std::move(echo));
    answered();
  };
  register_options ro;
  ro.match = o.match;
  ro.invoke = o.invoke;
  co_await s.async_register(o.uri, answer, ro);
  std::cerr << "registered " << o.uri << '\n';
  co_await state->wait();
}

transport::transport_options transport_for(const session_options& c) {
  transport::transport_options to;
  to.url = c.url;
  to.serializer = *wire::serializer_from_name(c.serializer);
  if (c.timeout_s > 0) to.handshake_timeout = timeout_of(c);
  apply(c.connection, to);
  return to;
}

/// The join options; throws for authentication options that do not fit together or
/// unreadable credentials.
join_options join_for(const session_options& c) {
  join_options jo;
  jo.realm = c.realm;
  apply_auth_options(c.auth, jo);
  return jo;
}

/// The payload codec the options ask for (null: none).
std::shared_ptr<codec::payload_codec> codec_of(const session_options& c) {
  if (c.keyring.empty()) return nullptr;
  try {
    const char* passphrase = std::getenv("WAMPBOX_PASSPHRASE");
    return std::make_shared<codec::secure_codec>(codec::load_secure_ring(
        c.keyring, codec::permission_check::enforce,
        passphrase ? std::optional<std::string_view>(passphrase) : std::nullopt));
  } catch (const std::exception& e) {
    throw failure{exit_usage, std::string("key ring: ") + e.what()};
  }
}

/// The join options, as a usage failure when they do not fit together.
join_options checked_join(const session_options& c) {
  try {
    return join_for(c);
  } catch (const std::exception& e) {
    throw failure{exit_usage, std::string("authentication: ") + e.what()};
  }
}

/// subscribe or register on a reconnecting client, until the command is done or it gives up.
asio::awaitable<int> run_with_client(command cmd, const session_options& c,
                                     const command_options& o) {
  try {
    co_await run_reconnecting(o.reconnect, transport_for(c), checked_join(c), codec_of(c),
                              timeout_of(c), [&](client& peer) {
                                return cmd == command::subscribe ? do_subscribe(peer, o)
                                                                 : do_register(peer, o);
                              });
  } catch (const error& e) {
    if (e.code() != make_error_code(errc::not_connected)) throw;
    throw failure{exit_connect_failed, e.what()};
  }
  co_return exit_ok;
}

asio::awaitable<int> run_session(command cmd, const session_options& c, const command_options& o) {
  if (o.reconnect.enabled) co_return co_await run_with_client(cmd, c, o);
  session s(co_await asio::this_coro::executor);
  s.set_payload_codec(codec_of(c));
  join_options jo = checked_join(c);
  // every wait for the router after connecting: join, answers, leave
  if (c.timeout_s > 0) s.set_timeout(timeout_of(c));
  try {
    co_await s.async_connect(transport_for(c));
  } catch (const std::exception& e) {
    throw failure{exit_connect_failed, e.what()};
  }
  try {
    co_await s.async_join(std::move(jo));
  } catch (const wamp_error& e) {
    throw failure{exit_join_refused, "joining realm '" + c.realm + "' refused: " + e.what()};
  }
  switch (cmd) {
    case command::publish: co_await do_publish(s, o); break;
    case command::subscribe: co_await do_subscribe(s, o); break;
    case command::call: co_await do_call(s, o); break;
    case command::register_: co_await do_register(s, o); break;
  }
  if (s.is_joined()) co_await s.async_leave("wamp.close.normal", asio::as_tuple(use_awaitable));
  co_return exit_ok;
}

}  // namespace

int run(command cmd, const session_options& connection, const command_options& opts) {
  asio::io_context io;
  int code = exit_failure;
  asio::co_spawn(
      io, run_session(cmd, connection, opts), [&code, &io](std::exception_ptr e, int rc) {
        if (!e) {
          code = rc;
          return;
        }
        // A failed command exits now: an unresponsive router must not hold it up any longer
        // (e.g. by never answering the WebSocket closing handshake).
        io.stop();
        try {
          std::rethrow_exception(e);
        } catch (const failure& f) {
          std::cerr << "wampbox: " << f.message << '\n';
          code = f.code;
        } catch (const wamp_error& w) {
          // GOODBYE or ABORT while the command ran: no answer to it, the router went away.
          if (w.code() != errc::wamp_error) {
            std::cerr << "wampbox: the router ended the session: " << w.what() << '\n';
            code = exit_failure;
            return;
          }
          std::string details;
          wire::write_json(value{{"error", w.uri()}, {"args", w.args()}, {"kwargs", w.kwargs()}},
                           details);
          std::cerr << "wampbox: WAMP error " << details << '\n';
          code = exit_wamp_error;
        } catch (const std::exception& x) {
          std::cerr << "wampbox: " << x.what() << '\n';
          code = exit_failure;
        }
      });
  io.run();
  return code;
}

}  // namespace wampbox::cli
