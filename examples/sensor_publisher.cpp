// An IoT sensor: publishes encrypted telemetry. The router routes by topic but sees only
// ciphertext; subscribers holding the key ring decrypt.
#include "common.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cmath>

namespace asio = boost::asio;
using namespace wampbox;

/// One reading: args [value, unit], kwargs {sensor, seq}. Built outside the coroutine: GCC 12
/// miscompiles initializer lists inside coroutine bodies.
std::pair<value, value> reading(int seq) {
  const double celsius = 21.0 + std::sin(seq / 3.0);
  return {value::array({std::round(celsius * 10) / 10, "°C"}),
          value{{"sensor", "thermo-Q7"}, {"seq", seq}}};
}

asio::awaitable<void> run(example::arguments args) {
  session s(co_await asio::this_coro::executor);
  co_await example::start(s, args);
  asio::steady_timer tick(s.get_executor());
  for (int i = 0; i < args.count; ++i) {
    auto [data, meta] = reading(i);
    publish_options acknowledged;
    acknowledged.acknowledge = true;
    co_await s.async_publish("com.example.sensors.kitchen", std::move(data), std::move(meta),
                             acknowledged);
    std::cout << "sensor: published reading " << i << '\n';
    tick.expires_after(std::chrono::milliseconds(200));
    co_await tick.async_wait(asio::use_awaitable);
  }
  co_await s.async_leave();
}

int main(int argc, char** argv) { return example::main("sensor", argc, argv, run); }
