// peer_bench: wampbox through a WAMP router, one workload per run, printed as one JSON line
// (bench/run-peer-bench runs it beside bench/peer_bench_autobahn.py and prints the table).
//
//   peer_bench --url URL --workload pubsub|rpc|pipelined [--keyring FILE] [--seconds S]
//              [--warmup S] [--window W] [--inflight C] [--payload BYTES] [--router-pid PID]
//
// Two sessions in this process, both on one io_context run by this thread:
//   pubsub     a publisher and a subscriber; at most W events published and not yet received
//              (the end-to-end window). events/s; after the run the publisher stops and
//              waits for the rest, and `lost` counts events never delivered (must be 0).
//   rpc        a caller and an echo callee; one call at a time. calls/s, latency p50/p99/max.
//   pipelined  the same with C calls in flight (a backend callee answering many at once).
// Payload: args = [one string of BYTES bytes] (default 100). With --keyring (wampbox's key-ring
// file with entries for "bench.") every payload is end-to-end encrypted (cryptobox); the
// topic and procedure are "bench.topic" and "bench.echo".
// CPU: this process's user+system time during the measured interval (getrusage), per
// operation; the router's from /proc/PID/stat when --router-pid is given (share of one core).
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace wampbox;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string url;
  std::string keyring;
  std::string workload;
  double seconds = 2.0;
  double warmup = 0.5;
  std::size_t window = 100;
  std::size_t inflight = 100;
  std::size_t payload = 100;
  long router_pid = 0;
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "peer_bench: " << why
            << "\nusage: peer_bench --url URL --workload pubsub|rpc|pipelined [--keyring FILE]"
               " [--seconds S] [--warmup S] [--window W] [--inflight C] [--payload BYTES]"
               " [--router-pid PID]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const std::string v = argv[++i];
    if (flag == "--url")
      o.url = v;
    else if (flag == "--keyring")
      o.keyring = v;
    else if (flag == "--workload")
      o.workload = v;
    else if (flag == "--seconds")
      o.seconds = std::stod(v);
    else if (flag == "--warmup")
      o.warmup = std::stod(v);
    else if (flag == "--window")
      o.window = std::stoul(v);
    else if (flag == "--inflight")
      o.inflight = std::stoul(v);
    else if (flag == "--payload")
      o.payload = std::stoul(v);
    else if (flag == "--router-pid")
      o.router_pid = std::stol(v);
    else
      usage(("unknown option " + flag).c_str());
  }
  if (o.url.empty()) usage("--url is required");
  if (o.workload != "pubsub" && o.workload != "rpc" && o.workload != "pipelined")
    usage("--workload must be pubsub, rpc or pipelined");
  if (o.window == 0 || o.inflight == 0) usage("--window and --inflight must be at least 1");
  return o;
}

/// CPU seconds (user + system) this process used so far.
double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// CPU seconds process `pid` used so far (utime + stime of /proc/PID/stat), or -1.
double other_process_cpu(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)  // field 3 is the state; 14, 15 the times
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A point of the run: completed operations, wall clock and CPU of both processes.
struct snapshot {
  std::uint64_t ops = 0;
  clock_type::time_point at;
  double cpu = 0;
  double router_cpu = 0;
};

/// The state of one run, shared by the workloads' callbacks (all on one thread).
struct run {
  enum class phase { warmup, measuring, draining, done };

  options opt;
  asio::io_context& io;
  session a;  // publisher or caller
  session b;  // subscriber or callee
  asio::steady_timer timer;
  phase now = phase::warmup;
  std::string payload;
  std::uint64_t started = 0;    // publications sent / calls started
  std::uint64_t completed = 0;  // events received / calls answered
  std::vector<double> latencies_us;
  std::string failure;
  snapshot begin, end;

  run(options o, asio::io_context& ctx)
      : opt(std::move(o)),
        io(ctx),
        a(ctx.get_executor()),
        b(ctx.get_executor()),
        timer(ctx),
        payload(opt.payload, 'x') {}

  snapshot take() const {
    return {completed, clock_type::now(), process_cpu(), other_process_cpu(opt.router_pid)};
  }

  bool issuing() const { return now == phase::warmup || now == phase::measuring; }

  void fail(const std::string& what) {
    if (failure.empty()) failure = what;
    now = phase::done;
    io.stop();
  }

  /// The application's arguments: a fresh value per message, moved into the library.
  value make_args() const { return value::array({payload}); }

  // ---- pubsub

  void pump_publications() {
    while (issuing() && started - completed < opt.window) {
      ++started;
      a.async_publish("bench.topic", make_args(), nullptr, publish_options{},
                      [this](std::exception_ptr e, std::optional<wire::id>) {
                        if (e) fail("publish failed");
                      });
    }
  }

  void on_event() {
    ++completed;
    if (issuing()) return pump_publications();
    if (now == phase::draining && completed == started) finish();
  }

  // ---- rpc and pipelined

  void start_call() {
    ++started;
    const auto sent = clock_type::now();
    a.async_call(
        "bench.echo", make_args(), nullptr, call_options{},
        [this, sent](std::exception_ptr e, call_result r) {
          if (e) return fail("call failed");
          if (!r.args.is_array() || r.args.size() != 1) return fail("wrong echo");
          ++completed;
          if (now == phase::measuring)
            latencies_us.push_back(
                std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
          if (issuing()) return start_call();
          if (now == phase::draining && completed == started) finish();
        });
  }

  // ---- phases

  void start_workload() {
    timer.expires_after(std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(opt.warmup)));
    timer.async_wait([this](boost::system::error_code) { start_measuring(); });
    if (opt.workload == "pubsub") return pump_publications();
    const std::size_t lanes = opt.workload == "rpc" ? 1 : opt.inflight;
    for (std::size_t i = 0; i < lanes; ++i) start_call();
  }

  void start_measuring() {
    if (now != phase::warmup) return;
    now = phase::measuring;
    begin = take();
    latencies_us.reserve(1 << 16);
    timer.expires_after(std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(opt.seconds)));
    timer.async_wait([this](boost::system::error_code) { start_draining(); });
  }

  void start_draining() {
    if (now != phase::measuring) return;
    end = take();
    now = phase::draining;
    if (completed == started) return finish();
    timer.expires_after(std::chrono::seconds(5));  // what has not arrived by then is lost
    timer.async_wait([this](boost::system::error_code) { finish(); });
  }

  void finish() {
    if (now == phase::done) return;
    now = phase::done;
    timer.cancel();
    a.async_leave("wamp.close.normal", [](std::exception_ptr) {});
    b.async_leave("wamp.close.normal", [](std::exception_ptr) {});
  }
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

asio::awaitable<void> join(session& s, const options& opt,
                           const std::shared_ptr<codec::key_ring>& ring) {
  if (ring) s.set_payload_codec(std::make_shared<codec::cryptobox_codec>(ring));
  s.set_timeout(std::chrono::seconds(10));
  co_await s.async_connect(transport::transport_options(opt.url, wire::serializer_kind::msgpack));
  co_await s.async_join(join_options{});
}

asio::awaitable<void> set_up(run& r) {
  std::shared_ptr<codec::key_ring> ring;
  if (!r.opt.keyring.empty())
    ring = std::make_shared<codec::key_ring>(codec::load_key_ring(r.opt.keyring));
  co_await join(r.a, r.opt, ring);
  co_await join(r.b, r.opt, ring);
  r.b.on_event_error(
      [&r](const std::string&, std::exception_ptr) { r.fail("event not delivered"); });
  if (r.opt.workload == "pubsub") {
    co_await r.b.async_subscribe("bench.topic", [&r](const event& e) {
      if (!e.args.is_array() || e.args.size() != 1) return r.fail("wrong event");
      r.on_event();
    });
  } else {
    co_await r.b.async_register("bench.echo", [](invocation inv, responder answer) {
      call_result result;
      result.args = std::move(inv.args);
      answer.yield(std::move(result));
    });
  }
  r.start_workload();
}

}  // namespace

int main(int argc, char** argv) {
  asio::io_context io;
  run r(parse(argc, argv), io);
  asio::co_spawn(r.io, set_up(r), [&r](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      r.fail(std::string("setup failed: ") + x.what());
    }
  });
  r.io.run();
  if (!r.failure.empty()) {
    std::cerr << "peer_bench: " << r.failure << '\n';
    return 1;
  }
  const double wall = std::chrono::duration<double>(r.end.at - r.begin.at).count();
  const auto ops = r.end.ops - r.begin.ops;
  value row = {{"impl", "wampbox"},
               {"url", r.opt.url},
               {"workload", r.opt.workload},
               {"encrypted", !r.opt.keyring.empty()},
               {"ops", ops},
               {"seconds", wall},
               {"ops_per_s", static_cast<double>(ops) / wall},
               {"client_cpu_us_per_op", 1e6 * (r.end.cpu - r.begin.cpu) / static_cast<double>(ops)},
               {"lost", r.started - r.completed}};
  if (r.opt.router_pid > 0 && r.begin.router_cpu >= 0 && r.end.router_cpu >= 0)
    row["router_cpu_share"] = (r.end.router_cpu - r.begin.router_cpu) / wall;
  if (r.opt.workload == "pubsub") row["window"] = r.opt.window;
  if (r.opt.workload == "pipelined") row["inflight"] = r.opt.inflight;
  if (r.opt.workload != "pubsub") {
    row["p50_us"] = percentile(r.latencies_us, 0.50);
    row["p99_us"] = percentile(r.latencies_us, 0.99);
    row["max_us"] = r.latencies_us.empty()
                        ? 0.0
                        : *std::max_element(r.latencies_us.begin(), r.latencies_us.end());
  }
  std::cout << row.dump() << std::endl;
  return r.started == r.completed ? 0 : 3;
}
