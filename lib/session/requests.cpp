#include "requests.hpp"

namespace wampbox::detail {

void request_table::add(wire::id id, wire::message_type kind, request_completion complete,
                        request_cleanup cleanup) {
  entries_.insert_or_assign(id, entry{kind, std::move(complete), std::move(cleanup), false, {}});
}

void request_table::set_deadline(wire::id id, std::unique_ptr<boost::asio::steady_timer> timer) {
  if (auto it = entries_.find(id); it != entries_.end()) it->second.deadline = std::move(timer);
}

bool request_table::answer(session_impl& session, wire::id id, wire::message_type kind,
                           wire::message& reply, bool final) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.kind != kind) return false;
  if (!final && !it->second.abandoned) {
    auto complete = it->second.complete;  // a copy: the handler may fail the request
    complete(session, nullptr, &reply);
    return true;
  }
  auto node = entries_.extract(it);
  if (node.mapped().complete) node.mapped().complete(session, nullptr, &reply);
  return true;
}

void request_table::fail(session_impl& session, wire::id id, std::exception_ptr error) {
  auto node = entries_.extract(id);
  if (node && !node.mapped().abandoned) node.mapped().complete(session, error, nullptr);
}

bool request_table::abandon(session_impl& session, wire::id id, std::exception_ptr reason) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.abandoned) return false;
  auto complete = std::exchange(it->second.complete, nullptr);
  auto cleanup = std::move(it->second.cleanup);
  it->second.deadline.reset();
  auto later = cleanup ? cleanup(session) : request_completion{};
  // Looked up again: the cleanup may have ended the session, and so emptied the table.
  if (it = entries_.find(id); it != entries_.end()) {
    if (later) {
      it->second.abandoned = true;
      it->second.complete = std::move(later);
    } else {
      entries_.erase(it);
    }
  }
  complete(session, reason, nullptr);
  return true;
}

void request_table::fail_all(session_impl& session, std::exception_ptr error) {
  // Taken first: a completion may start a new request.
  auto all = std::exchange(entries_, {});
  for (auto& [id, e] : all)
    if (!e.abandoned) e.complete(session, error, nullptr);
}

}  // namespace wampbox::detail
