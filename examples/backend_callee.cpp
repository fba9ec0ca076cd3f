// A backend service: answers encrypted calls. Handlers may return a result, throw a WAMP
// error, or be coroutines; answers to encrypted calls are always encrypted.
#include "common.hpp"

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <map>

namespace asio = boost::asio;
using namespace wampbox;

const std::map<std::string, double> balances = {{"alice", 120.5}, {"bob", 7.25}};

asio::awaitable<void> run(example::arguments args) {
  session s(co_await asio::this_coro::executor);
  co_await example::start(s, args);

  auto balance = [](const invocation& call) {
    if (!call.args.is_array() || call.args.empty() || !call.args[0].is_string())
      throw wamp_error("com.example.error.invalid_argument", value::array({"expected a name"}));
    const auto it = balances.find(call.args[0].get<std::string>());
    if (it == balances.end()) throw wamp_error("com.example.error.unknown_account", call.args);
    call_result result;
    result.args = value::array({it->second});
    result.kwargs = {{"currency", "EUR"}, {"encrypted_request", call.encrypted}};
    return result;
  };
  co_await s.async_register("com.example.backend.balance", balance, {});
  std::cout << "callee: ready" << std::endl;

  asio::signal_set stop(s.get_executor(), SIGINT, SIGTERM);
  co_await stop.async_wait(asio::use_awaitable);
  co_await s.async_leave();
}

int main(int argc, char** argv) { return example::main("callee", argc, argv, run); }
