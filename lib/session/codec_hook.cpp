#include "codec_hook.hpp"

#include <wampbox/error.hpp>

namespace wampbox::detail {
namespace {

class identity final : public codec::payload_codec {
 public:
  void encode(codec::payload_kind, std::string_view, value&, wire::payload&,
              codec::call_context&) override {}
  void decode(codec::payload_kind, std::string_view, const value&, wire::payload&,
              codec::call_context&) override {}
};

}  // namespace

std::shared_ptr<codec::payload_codec> identity_codec() {
  static const auto instance = std::make_shared<identity>();  // stateless: one for all
  return instance;
}

wire::payload encode_payload(codec::payload_codec& codec, codec::payload_kind kind,
                             std::string_view uri, value& options, value args, value kwargs,
                             codec::call_context& call) {
  if (!args.is_null() && !args.is_array())
    throw error(errc::invalid_message, "args must be an array or null");
  if (!kwargs.is_null() && !kwargs.is_object())
    throw error(errc::invalid_message, "kwargs must be an object or null");
  wire::payload data{std::move(args), std::move(kwargs), std::nullopt};
  codec.encode(kind, uri, options, data, call);
  return data;
}

void decode_payload(codec::payload_codec& codec, codec::payload_kind kind, std::string_view uri,
                    const value& details, wire::payload& data, codec::call_context& call) {
  codec.decode(kind, uri, details, data, call);
  if (!data.opaque) return;
  data.args = value::array({make_binary(std::move(*data.opaque))});
  data.kwargs = nullptr;
  data.opaque.reset();
}

}  // namespace wampbox::detail
