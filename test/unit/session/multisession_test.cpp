// WAMP testsuite multisession samples (test/data/wamp-testsuite/multisession): each scenario is
// played against wampbox sessions on scripted transports. A step from a session is performed
// through the session API and the message it sends is compared with the sample; a step from
// the router is delivered, and every EVENT must reach exactly the session it is addressed to.
#include "../test_data.hpp"
#include "scripted_transport.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <vector>

using namespace wampbox;
using namespace wampbox::test;

namespace {

/// One scenario participant: a joined session and the events it received.
struct participant : fixture {
  std::vector<event> events;
};

/// The field of a sample message, or null when absent.
value field(const value& message, const char* name) {
  return message.contains(name) ? message[name] : value();
}

/// Plays one scenario file.
class scenario {
 public:
  explicit scenario(const value& doc) : doc_(doc) {
    for (const auto& s : doc.at("sessions")) {
      auto p = std::make_unique<participant>();
      p->join();
      sessions_.emplace(s.at("session_id").get<std::string>(), std::move(p));
    }
    REQUIRE_FALSE(sessions_.empty());
  }

  void play() {
    for (const auto& step : doc_.at("sequence")) {
      CAPTURE(step.at("description").get<std::string>());
      const value& m = step.at("message");
      const auto type = m.at("type").get<std::string>();
      if (step.at("from") == "router") {
        from_router(at(step.at("to")), type, m);
      } else {
        REQUIRE(step.at("to") == "router");
        from_session(at(step.at("from")), type, m);
      }
    }
    check_outcome(doc_.at("expected_outcome"));
  }

 private:
  participant& at(const value& id) {
    const auto it = sessions_.find(id.get<std::string>());
    REQUIRE_MESSAGE(it != sessions_.end(), "unknown session " << id);
    return *it->second;
  }

  /// Performs the sample's client message through the API and compares what went out.
  void from_session(participant& p, const std::string& type, const value& m) {
    const auto before = p.router->sent.size();
    const value options = m.contains("options") ? m["options"] : value::object();
    if (type == "SUBSCRIBE") {
      REQUIRE(options.empty());  // exact match, no further options: the only form sampled so far
      p.s.async_subscribe(
          m.at("topic").get<std::string>(), [&p](const event& e) { p.events.push_back(e); }, {},
          [](std::exception_ptr e, subscription) { CHECK_FALSE(e); });
    } else if (type == "PUBLISH") {
      publish_options po;
      for (const auto& [key, v] : options.items()) {
        REQUIRE_MESSAGE((key == "exclude_me" || key == "acknowledge"),
                        "unsupported option " << key);
        (key == "exclude_me" ? po.exclude_me : po.acknowledge) = v.get<bool>();
      }
      p.s.async_publish(m.at("topic").get<std::string>(), field(m, "args"), field(m, "kwargs"), po,
                        [](std::exception_ptr e, std::optional<wire::id>) { CHECK_FALSE(e); });
    } else {
      FAIL("client message type not covered by this player: " << type);
    }
    p.settle();
    REQUIRE(p.router->sent.size() == before + 1);
    const value& sent = p.last();
    CHECK(sent[0] == (type == "SUBSCRIBE" ? 32 : 16));
    for (const auto& [key, v] : options.items()) {
      CAPTURE(key);
      CHECK(sent[2].value(key, value()) == v);
    }
    CHECK(sent[3] == m.at("topic"));
    if (m.contains("args")) CHECK(sent[4] == m["args"]);
    requests_[m.at("request_id").get<wire::id>()] = sent[1].get<wire::id>();
  }

  /// Delivers the sample's router message; an EVENT must reach the handler unchanged.
  void from_router(participant& p, const std::string& type, const value& m) {
    if (type == "SUBSCRIBED") {
      const auto request = requests_.find(m.at("request_id").get<wire::id>());
      REQUIRE(request != requests_.end());
      p.router->push(value::array({33, request->second, m.at("subscription_id")}));
      p.settle();
    } else if (type == "EVENT") {
      const auto received = p.events.size();
      value pushed = value::array({36, m.at("subscription_id"), m.at("publication_id"),
                                   m.contains("details") ? m["details"] : value::object()});
      if (m.contains("args") || m.contains("kwargs")) pushed.push_back(field(m, "args"));
      if (m.contains("kwargs")) pushed.push_back(m["kwargs"]);
      p.router->push(pushed);
      p.settle();
      REQUIRE(p.events.size() == received + 1);
      const auto& got = p.events.back();
      CHECK(got.subscription == m.at("subscription_id").get<wire::id>());
      CHECK(got.publication == m.at("publication_id").get<wire::id>());
      CHECK(got.args == field(m, "args"));
      CHECK(got.kwargs == field(m, "kwargs"));
    } else {
      FAIL("router message type not covered by this player: " << type);
    }
    CHECK_FALSE(p.disconnected);
  }

  void check_outcome(const value& outcome) {
    std::size_t events = 0;
    std::set<std::string> recipients;
    for (const auto& [id, p] : sessions_) {
      events += p->events.size();
      if (!p->events.empty()) recipients.insert(id);
      if (outcome.contains(id + "_receives_event")) {
        CHECK(outcome[id + "_receives_event"].get<bool>() == !p->events.empty());
      }
    }
    if (outcome.contains("event_count")) CHECK(outcome["event_count"] == events);
    if (outcome.contains("event_recipients")) {
      CHECK(outcome["event_recipients"].get<std::set<std::string>>() == recipients);
    }
  }

  const value& doc_;
  std::map<std::string, std::unique_ptr<participant>> sessions_;
  std::map<wire::id, wire::id> requests_;  // the sample's request id -> the session's
};

}  // namespace

TEST_CASE("conformance: WAMP testsuite multisession samples play against the session") {
  const auto files = wampbox::test_data::testsuite_files("multisession");
  for (const auto& file : files) {
    CAPTURE(file.string());
    std::ifstream in(file, std::ios::binary);
    const value doc = value::parse(in);
    scenario(doc).play();
  }
  MESSAGE("multisession: " << files.size() << " scenario(s) played");
}
