// Calls the backend: the arguments and the result (or the error) travel encrypted.
#include "common.hpp"

namespace asio = boost::asio;
using namespace wampbox;

asio::awaitable<void> run(example::arguments args) {
  session s(co_await asio::this_coro::executor);
  co_await example::start(s, args);
  for (const char* name : {"alice", "bob", "mallory"}) {
    value who = value::array();
    who.push_back(name);
    try {
      auto result =
          co_await s.async_call("com.example.backend.balance", std::move(who), nullptr, {});
      std::cout << "caller: " << name << " has " << result.args[0] << ' '
                << result.kwargs["currency"].get<std::string>()
                << (result.encrypted ? " (answer was end-to-end encrypted)" : "") << '\n';
    } catch (const wamp_error& e) {
      std::cout << "caller: " << name << ": error " << e.uri() << '\n';
    }
  }
  co_await s.async_leave();
}

int main(int argc, char** argv) { return example::main("caller", argc, argv, run); }
