// The publisher role: PUBLISH, acknowledged or not.
#include "session_impl.hpp"

namespace wampbox::detail {
namespace {

/// Sets `options[key]` to the list, unless it is empty (an empty exclusion excludes nobody).
template <typename T>
void set_exclusion(value& options, const char* key, const std::vector<T>& list) {
  if (!list.empty()) options[key] = list;
}

/// Sets `options[key]` to the list when one is given (an empty eligibility admits nobody).
template <typename T>
void set_eligibility(value& options, const char* key, const std::optional<std::vector<T>>& list) {
  if (list) options[key] = *list;
}

}  // namespace

operation_ref session_impl::publish(std::string topic, value args, value kwargs,
                                    publish_options options,
                                    result_handler<std::optional<wire::id>> cb) {
  if (auto refused = refusal()) {
    cb(refused, std::nullopt);
    return {};
  }
  // The message is made last, from its parts: its default Options would be a dict of its own.
  value opts;
  wire::payload data;
  try {
    opts = options_from(options.extra);
    if (options.acknowledge) opts["acknowledge"] = true;
    if (!options.exclude_me) opts["exclude_me"] = false;
    if (options.disclose_me) opts["disclose_me"] = true;
    if (options.retain) opts["retain"] = true;
    set_exclusion(opts, "exclude", options.exclude);
    set_exclusion(opts, "exclude_authid", options.exclude_authid);
    set_exclusion(opts, "exclude_authrole", options.exclude_authrole);
    set_eligibility(opts, "eligible", options.eligible);
    set_eligibility(opts, "eligible_authid", options.eligible_authid);
    set_eligibility(opts, "eligible_authrole", options.eligible_authrole);
    codec::call_context context;
    data = encode_payload(*codec_, codec::payload_kind::publish, topic, opts, std::move(args),
                          std::move(kwargs), context);
  } catch (...) {
    cb(std::current_exception(), std::nullopt);
    return {};
  }
  const auto id = next_request();
  wire::publish_message msg{.request = id,
                            .options = std::move(opts),
                            .topic = std::move(topic),
                            .data = std::move(data)};
  if (!options.acknowledge) {
    send(std::move(msg), [cb = std::move(cb)](std::exception_ptr e) { cb(e, std::nullopt); });
    return {};
  }
  // Canceled, it stops waiting: the event may still be published, there is nothing to undo.
  return request(id, std::move(msg), wire::message_type::publish,
                 [cb = std::move(cb)](session_impl&, std::exception_ptr e, wire::message* answer) {
                   auto* published = expect<wire::published_message>(e, answer);
                   cb(e, published ? std::optional(published->publication) : std::nullopt);
                 });
}

}  // namespace wampbox::detail
