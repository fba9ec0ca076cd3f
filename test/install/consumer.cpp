// wampbox install test: a tiny program built against the INSTALLED headers, library and
// wampbox.pc. It round-trips one encrypted PUBLISH through MessagePack and decodes it as the
// EVENT a subscriber would receive. Prints the headers' and the library's version and "ok"; exits
// non-zero on any failure.
#include <wampbox/codec/cryptobox_codec.hpp>
#include <wampbox/wampbox.hpp>
#include <wampbox/wire/serializer.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <variant>

namespace {

using namespace wampbox;

/// Prints `what` and exits with a failure status.
[[noreturn]] void fail(const char* what) {
  std::cerr << "consumer: " << what << '\n';
  std::exit(1);
}

int run() {
  const auto pair = codec::generate_key_pair();
  auto ring = std::make_shared<const codec::key_ring>(codec::key::from_private(pair.private_key));
  codec::cryptobox_codec publisher(ring);
  codec::cryptobox_codec subscriber(ring);

  const std::string topic = "com.example.install";
  const value args = value::array({1, "two", value::object({{"three", 3.5}})});

  wire::publish_message publish;
  publish.request = 1;
  publish.topic = topic;
  publish.data.args = args;
  codec::call_context publish_call;
  publisher.encode(codec::payload_kind::publish, topic, publish.options, publish.data,
                   publish_call);
  if (!publish.data.opaque || !publish.data.args.is_null()) fail("PUBLISH payload not encrypted");

  const auto bytes = wire::serialize_message(wire::serializer_kind::msgpack, publish);
  auto parsed = wire::parse_message(wire::serializer_kind::msgpack, bytes);
  const auto* received = std::get_if<wire::publish_message>(&parsed);
  if (received == nullptr || *received != publish) fail("MessagePack round trip changed PUBLISH");

  // What a router forwards: the publisher's enc_* options become the EVENT details.
  wire::event_message event;
  event.subscription = 2;
  event.publication = 3;
  event.details = received->options;
  event.data = received->data;
  codec::call_context event_call;
  subscriber.decode(codec::payload_kind::event, topic, event.details, event.data, event_call);
  if (event.data.opaque || event.data.args != args) fail("EVENT args differ from PUBLISH args");

  std::cout << "wampbox headers " << WAMPBOX_VERSION_STRING << ", library " << version() << '\n'
            << "ok\n";
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << "consumer: " << e.what() << '\n';
    return 1;
  }
}
