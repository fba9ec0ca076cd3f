// cryptobox_bench: what end-to-end encryption costs per message, against the libsodium limit.
//
// For application payloads of 64 B, 1 KiB and 16 KiB (one string argument of that size):
//   seal limit  randombytes nonce + crypto_box_easy_afternm over the inner plaintext bytes that
//               the codec encrypts (opened from a PUBLISH it made: binding included)
//   open limit  crypto_box_open_easy_afternm of that box
//   encode      args -> [codec.encode] -> serialize PUBLISH   (plaintext and encrypted), shown
//               as a share of the seal limit
//   decode      parse EVENT -> [codec.decode] -> args, released as the session releases them
//               (plaintext and encrypted), shown as a share of the open limit (the replay check
//               is part of the decode row: it is not separate from decoding, so the limit does
//               not include it); each limit is measured in slices alternating with its row
// for the JSON and MessagePack serializers. Each cell runs for a fixed time (0.3 s by default, or
// the first argument in seconds); a second argument runs only that payload size, a third only the
// rows whose name contains it (both for profiling, e.g. `cryptobox_bench 3 1024 "msgpack parse"`).
// A fourth argument N runs each chosen row exactly N times and no limit, for instruction counts
// that a shared machine's load does not blur: `perf stat -e instructions` (or valgrind
// --tool=callgrind) at two values of N, difference divided by the difference of N.
// The encrypted rows use the codec's defaults (wbx binding and replay protection on).
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wire/serializer.hpp>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace wampbox;
using namespace wampbox::codec;
using wire::serializer_kind;

namespace {

const char* const originator_priv = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const char* const originator_pub = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";
const char* const responder_priv = "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=";
const char* const responder_pub = "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=";
const std::string topic = "com.example.topic";

/// Events decoded in rotation by the encrypted decode cell (distinct nonces, as on a real wire).
constexpr std::size_t event_pool = 64;

double seconds_per_cell = 0.3;
const char* only_rows = "";   // run only the rows whose name contains this
std::size_t fixed_count = 0;  // when not 0: run each row this many times, and no limit
volatile std::size_t sink;    // keeps results observable so nothing is optimised away

/// Operations done and seconds taken.
struct tally {
  double done = 0;
  double seconds = 0;
};

/// Runs `op` in batches for `seconds`, adding to `t`.
void run_for(const std::function<void()>& op, double seconds, tally& t) {
  using clock = std::chrono::steady_clock;
  std::size_t batch = 16;
  const auto start = clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (std::size_t i = 0; i < batch; ++i) op();
    t.done += static_cast<double>(batch);
    batch = std::min<std::size_t>(batch * 2, 4096);
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  }
  t.seconds += elapsed;
}

/// Messages per second of `op`, and of `limit` measured in alternating slices beside it, so that
/// both see the same machine (on a shared machine the load drifts from one cell to the next).
std::pair<double, double> paired_rates(const std::function<void()>& op,
                                       const std::function<void()>& limit) {
  constexpr int slices = 6;
  for (int i = 0; i < 16; ++i) {  // warm up caches and the codec's reused buffers
    op();
    limit();
  }
  tally measured, reference;
  for (int i = 0; i < slices; ++i) {
    run_for(op, seconds_per_cell / slices, measured);
    run_for(limit, seconds_per_cell / slices, reference);
  }
  return {measured.done / measured.seconds, reference.done / reference.seconds};
}

key_ring ring_for(key_role role) {
  key_ring ring;
  if (role == key_role::originator) {
    ring.set_key("com.example.", key::from_spec({originator_priv, {}, {}, responder_pub}));
  } else {
    ring.set_key("com.example.", key::from_spec({{}, originator_pub, responder_priv, {}}));
  }
  return ring;
}

/// Share of its limit per row name at 1 KiB, for the goal summary.
std::vector<std::pair<std::string, double>> goal_rows;

/// Measures `op` beside `limit` and prints its rate and share of the limit.
void measure_row(const std::string& name, const std::function<void()>& op,
                 const std::function<void()>& limit, const char* limit_name, std::size_t size) {
  if (name.find(only_rows) == std::string::npos) return;
  if (fixed_count != 0) {
    for (std::size_t i = 0; i < fixed_count; ++i) op();
    std::printf("  %-34s ran %zu times\n", name.c_str(), fixed_count);
    return;
  }
  const auto [per_second, limit_per_second] = paired_rates(op, limit);
  const double share = 100.0 * per_second / limit_per_second;
  std::printf("  %-34s %10.0f msg/s  %6.1f%% of %s (%.0f/s beside it)\n", name.c_str(), per_second,
              share, limit_name, limit_per_second);
  if (size == 1024 && name.find("plaintext") == std::string::npos)
    goal_rows.emplace_back(name, share);
}

/// The goal at 1 KiB, in percent of the row's limit.
double goal_for(const std::string& name) {
  const bool json = name.starts_with("json");
  if (name.find("encrypt") != std::string::npos) return json ? 50.0 : 80.0;
  return json ? 50.0 : 60.0;
}

/// One serialized PUBLISH turned into the EVENT the router would forward.
std::string as_event(serializer_kind s, wire::message publish, wire::id publication) {
  auto& p = std::get<wire::publish_message>(publish);
  return wire::serialize_message(
      s, wire::event_message{9001, publication, p.options, std::move(p.data)});
}

/// Lets go of a delivered event as the session does after its handlers ran (empty_flat in
/// lib/session/message_fields.cpp): a list or dict without nested containers is emptied first,
/// because nlohmann destroys a non-empty one through a heap copy of its elements. The decode
/// rows then measure what an EVENT costs the library, not that detour.
void release(wire::event_message& ev) {
  for (value* v : {&ev.data.args, &ev.data.kwargs, &ev.details}) {
    if (!v->is_structured()) continue;
    if (std::none_of(v->begin(), v->end(),
                     [](const value& item) { return item.is_structured() && !item.empty(); }))
      v->clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) seconds_per_cell = std::atof(argv[1]);
  const std::size_t only_size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 0;
  if (argc > 3) only_rows = argv[3];
  if (argc > 4) fixed_count = std::strtoul(argv[4], nullptr, 10);
  if (sodium_init() < 0) return 1;
  std::printf(
      "cryptobox_bench: %.2f s per cell; rows are messages per second, and their share of the\n"
      "libsodium limit: encode rows of the seal limit (randombytes nonce + "
      "crypto_box_easy_afternm\n"
      "of the inner plaintext), decode rows of the open limit (crypto_box_open_easy_afternm),\n"
      "each limit measured in slices alternating with the row, so both see the same load\n",
      seconds_per_cell);

  struct overhead {
    std::size_t size;
    long json, msgpack;
  };
  std::vector<overhead> overheads;

  for (std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    if (only_size != 0 && size != only_size) continue;
    const value args = value::array({std::string(size, 'x')});
    cryptobox_codec originator(ring_for(key_role::originator));

    // The inner plaintext the codec encrypts (Autobahn's members and wampbox's wbx binding),
    // opened from one PUBLISH it made: the limits seal and open boxes of exactly its size.
    const key k = key::from_spec({originator_priv, {}, {}, responder_pub});
    const unsigned char* kk = k.shared_key(key_role::originator);
    std::string inner;
    {
      wire::payload data{args, nullptr, std::nullopt};
      value options = value::object();
      call_context ctx;
      originator.encode(payload_kind::publish, topic, options, data, ctx);
      const bytes& sealed = *data.opaque;
      inner.resize(sealed.size() - 24 - 16);
      if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(inner.data()),
                                       sealed.data() + 24, sealed.size() - 24, sealed.data(),
                                       kk) != 0)
        return 1;
    }
    std::vector<unsigned char> box(24 + 16 + inner.size());
    std::vector<unsigned char> opened(inner.size());

    std::printf("\npayload %zu B (inner plaintext %zu B)\n", size, inner.size());
    const std::function<void()> seal = [&] {
      randombytes_buf(box.data(), 24);
      crypto_box_easy_afternm(box.data() + 24, reinterpret_cast<const unsigned char*>(inner.data()),
                              inner.size(), box.data(), kk);
      sink = box[30];
    };
    seal();  // a valid box for the open limit
    const std::function<void()> open = [&] {
      sink = static_cast<std::size_t>(crypto_box_open_easy_afternm(
          opened.data(), box.data() + 24, box.size() - 24, box.data(), kk));
    };
    if (fixed_count != 0) {  // the limits as rows of their own, for their instruction counts
      measure_row("libsodium seal", seal, seal, "seal", size);
      measure_row("libsodium open", open, open, "open", size);
    } else {
      const auto [open_per_second, seal_per_second] = paired_rates(open, seal);
      std::printf("  %-34s %10.0f msg/s  (the seal limit)\n", "libsodium seal", seal_per_second);
      std::printf("  %-34s %10.0f msg/s  (the open limit)\n", "libsodium open", open_per_second);
    }

    overhead o{size, 0, 0};
    for (serializer_kind s : {serializer_kind::json, serializer_kind::msgpack}) {
      const std::string ser(wire::serializer_name(s));
      auto make_publish = [&](bool encrypt) {
        wire::payload data{args, nullptr, std::nullopt};
        value options = value::object();
        if (encrypt) {
          call_context ctx;
          originator.encode(payload_kind::publish, topic, options, data, ctx);
        }
        return wire::message(wire::publish_message{1, std::move(options), topic, std::move(data)});
      };

      const std::string plain_bytes = wire::serialize_message(s, make_publish(false));
      const std::string enc_bytes = wire::serialize_message(s, make_publish(true));
      (s == serializer_kind::json ? o.json : o.msgpack) =
          static_cast<long>(enc_bytes.size()) - static_cast<long>(plain_bytes.size());

      measure_row(
          ser + " plaintext encode",
          [&] { sink = wire::serialize_message(s, make_publish(false)).size(); }, seal, "seal",
          size);
      measure_row(
          ser + " encrypt + serialize PUBLISH",
          [&] { sink = wire::serialize_message(s, make_publish(true)).size(); }, seal, "seal",
          size);

      const std::string plain_event = as_event(s, make_publish(false), 1);
      measure_row(
          ser + " plaintext decode",
          [&] {
            auto ev = std::get<wire::event_message>(wire::parse_message(s, plain_event));
            sink = ev.data.args.size();
            release(ev);
          },
          open, "open", size);

      std::vector<std::string> events;
      for (std::size_t i = 0; i < event_pool; ++i)
        events.push_back(as_event(s, make_publish(true), i + 1));
      cryptobox_options sub_options;
      sub_options.replay_cache_size =
          event_pool - 1;  // each nonce is evicted before it comes round again
      cryptobox_codec subscriber(ring_for(key_role::responder), sub_options);
      std::size_t next = 0;
      measure_row(
          ser + " parse + decrypt EVENT",
          [&] {
            auto ev = std::get<wire::event_message>(wire::parse_message(s, events[next]));
            next = (next + 1) % event_pool;
            call_context ctx;
            subscriber.decode(payload_kind::event, topic, ev.details, ev.data, ctx);
            sink = ev.data.args.size();
            release(ev);
          },
          open, "open", size);
    }
    overheads.push_back(o);
  }

  std::printf("\nwire overhead of encryption, bytes per PUBLISH (encrypted - plaintext)\n");
  std::printf("  %-10s %10s %10s\n", "payload", "json", "msgpack");
  for (const auto& o : overheads) std::printf("  %-10zu %10ld %10ld\n", o.size, o.json, o.msgpack);
  if (!goal_rows.empty())
    std::printf("\ngoals at 1 KiB, as a share of the row's limit (seal or open)\n");
  for (const auto& [name, share] : goal_rows) {
    const double goal = goal_for(name);
    std::printf("  %-34s %6.1f%%  (goal %2.0f%%)  %s\n", name.c_str(), share, goal,
                share >= goal ? "met" : "NOT met");
  }
  return 0;
}
