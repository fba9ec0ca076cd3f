// secure_bench: what secure mode (x_wampbox_v1) costs per message, against the libsodium cost
// of the same primitives, measured in the same run, with the cryptobox codec beside it.
//
// For application payloads of 64 B, 1 KiB and 16 KiB (one string argument of that size):
//   seal limit  randombytes nonce + XChaCha20-Poly1305 encrypt (with the 84-byte header and the
//               context as associated data) + BLAKE2b-256 of AD ‖ ciphertext + Ed25519 sign
//   open limit  BLAKE2b-256 + Ed25519 verify + XChaCha20-Poly1305 decrypt of that payload
//   encode      args -> [secure_codec.encode] -> serialize PUBLISH   (against the seal limit)
//   decode      parse EVENT -> [secure_codec.decode] -> args           (against the open limit)
//   cryptobox   the same two rows of cryptobox_codec (defaults), for comparison
// for the JSON and MessagePack serializers. Each cell runs for a fixed time (0.3 s by default, or
// the first argument in seconds). Goal (issue 9): encode and decode >= 50% of their limit at 1 KiB.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/codec/secure_codec.hpp>
#include <wampbox/wire/serializer.hpp>

#include "rate.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace wampbox;
using namespace wampbox::codec;
using bench::rate;
using bench::sink;
using wire::serializer_kind;

namespace {

const std::string topic = "com.example.topic";
const char* const cryptobox_private = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// Events decoded in order by a decode cell; a fresh subscriber codec takes over when they come
/// round again (secure mode refuses the replays, as it should).
constexpr std::size_t event_pool = 256;

/// Share of its limit per row at 1 KiB, for the goal summary.
std::vector<std::pair<std::string, double>> goal_rows;

void print_row(const std::string& name, double per_second, double limit, std::size_t size) {
  const double share = 100.0 * per_second / limit;
  std::printf("  %-44s %10.0f msg/s  %6.1f%% of limit\n", name.c_str(), per_second, share);
  if (size == 1024) goal_rows.emplace_back(name, share);
}

void print_plain_row(const std::string& name, double per_second) {
  std::printf("  %-44s %10.0f msg/s\n", name.c_str(), per_second);
}

/// The publisher's and the subscriber's rings: one group key, the publisher listed.
struct rings {
  std::shared_ptr<const secure_ring> publisher, subscriber;
  rings() {
    const group_key k = group_key::generate();
    const identity_key id = identity_key::generate();
    secure_ring p, s;
    p.set_identity("publisher", identity_key::from_seed(id.seed_base64()));
    p.add_key("com.example", group_key::from_base64(k.to_base64()));
    s.add_key("com.example", group_key::from_base64(k.to_base64()));
    s.trust_sender("com.example", "publisher", id.public_key(), roles_of({sender_role::publish}));
    publisher = std::make_shared<const secure_ring>(std::move(p));
    subscriber = std::make_shared<const secure_ring>(std::move(s));
  }
};

/// One serialized PUBLISH turned into the EVENT the router would forward.
std::string as_event(serializer_kind s, wire::message publish, wire::id publication) {
  auto& p = std::get<wire::publish_message>(publish);
  return wire::serialize_message(
      s, wire::event_message{9001, publication, p.options, std::move(p.data)});
}

/// The libsodium limits of one payload size: the same primitives as the codec, nothing else.
struct limits {
  double seal, open;
};

limits measure_limits(std::size_t inner_size) {
  const group_key k = group_key::generate();
  const identity_key id = identity_key::generate();
  // header (84) ‖ context: label, enc_algo, enc_serializer, enc_key, URI, error URI
  const std::size_t ad_size = 84 + 6 * 4 + 12 + 12 + 7 + 16 + topic.size();
  std::vector<unsigned char> ad(ad_size, 0x5a), plain(inner_size, 'x'), opened(inner_size);
  std::vector<unsigned char> ct(inner_size + 16), signature(64);
  unsigned char nonce[24], message[16 + 32];
  auto digest = [&] {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    crypto_generichash_update(&st, ad.data(), ad.size());
    crypto_generichash_update(&st, ct.data(), ct.size());
    crypto_generichash_final(&st, message + 16, 32);
  };
  auto seal = [&] {
    randombytes_buf(nonce, sizeof nonce);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), nullptr, plain.data(), plain.size(),
                                               ad.data(), ad.size(), nullptr, nonce, k.secret());
    digest();
    crypto_sign_detached(signature.data(), nullptr, message, sizeof message, id.secret_key());
    sink = signature[0];
  };
  auto open = [&] {
    digest();
    const int verified = crypto_sign_verify_detached(signature.data(), message, sizeof message,
                                                     id.public_key().data());
    const int decrypted = crypto_aead_xchacha20poly1305_ietf_decrypt(
        opened.data(), nullptr, nullptr, ct.data(), ct.size(), ad.data(), ad.size(), nonce,
        k.secret());
    sink = static_cast<std::size_t>(verified + decrypted);
  };
  // The best of two runs: the first cell of a payload size also pays for warming the CPU up, and
  // a limit measured low would flatter the codec.
  return {std::max(rate(seal), rate(seal)), std::max(rate(open), rate(open))};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) bench::seconds_per_cell = std::atof(argv[1]);
  if (sodium_init() < 0) return 1;
  std::printf(
      "secure_bench: %.2f s per cell; rows are messages per second, and their share of the\n"
      "libsodium limit of the same primitives (seal: nonce + XChaCha20-Poly1305 + BLAKE2b +\n"
      "Ed25519 sign; open: BLAKE2b + Ed25519 verify + XChaCha20-Poly1305)\n",
      bench::seconds_per_cell);
  const rings r;

  for (std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384}}) {
    const value args = value::array({std::string(size, 'x')});
    std::string inner = "\x92";
    wire::serialize(serializer_kind::msgpack, args, inner);
    wire::serialize(serializer_kind::msgpack, nullptr, inner);
    std::printf("\npayload %zu B (inner MessagePack %zu B)\n", size, inner.size());
    const limits l = measure_limits(inner.size());
    print_plain_row("libsodium seal (limit)", l.seal);
    print_plain_row("libsodium open (limit)", l.open);

    secure_codec publisher(r.publisher);
    key_ring cryptobox_ring;
    cryptobox_ring.set_key("com.example.", key::from_private(cryptobox_private));
    cryptobox_codec cryptobox_publisher(std::move(cryptobox_ring));

    for (serializer_kind s : {serializer_kind::json, serializer_kind::msgpack}) {
      const std::string ser(wire::serializer_name(s));
      auto make_publish = [&](payload_codec& codec) {
        wire::payload data{args, nullptr, std::nullopt};
        value options = value::object();
        call_context ctx;
        codec.encode(payload_kind::publish, topic, options, data, ctx);
        return wire::message(wire::publish_message{1, std::move(options), topic, std::move(data)});
      };
      print_row(ser + " sign + encrypt + serialize PUBLISH",
                rate([&] { sink = wire::serialize_message(s, make_publish(publisher)).size(); }),
                l.seal, size);

      std::vector<std::string> events;
      for (std::size_t i = 0; i < event_pool; ++i)
        events.push_back(as_event(s, make_publish(publisher), i + 1));
      std::unique_ptr<secure_codec> subscriber;
      std::size_t next = 0;
      print_row(ser + " parse + verify + decrypt EVENT", rate([&] {
                  if (next == 0) subscriber = std::make_unique<secure_codec>(r.subscriber);
                  auto ev = std::get<wire::event_message>(wire::parse_message(s, events[next]));
                  next = (next + 1) % event_pool;
                  call_context ctx;
                  subscriber->decode(payload_kind::event, topic, ev.details, ev.data, ctx);
                  sink = ev.data.args.size();
                }),
                l.open, size);

      print_plain_row(ser + " cryptobox encrypt + serialize", rate([&] {
                        sink = wire::serialize_message(s, make_publish(cryptobox_publisher)).size();
                      }));
    }
  }

  std::printf("\ngoal at 1 KiB: every secure-mode row >= 50%% of its limit\n");
  for (const auto& [name, share] : goal_rows)
    std::printf("  %-44s %6.1f%%  %s\n", name.c_str(), share, share >= 50.0 ? "met" : "NOT met");
  return 0;
}
