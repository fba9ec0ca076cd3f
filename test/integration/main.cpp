// Integration-test main: needs a router (see test/router/with_router); skips (exit 77) without.
#define DOCTEST_CONFIG_IMPLEMENT
#include "harness.hpp"

#include <iostream>

int main(int argc, char** argv) {
  if (wampbox::test::router_urls().empty()) {
    std::cout << "SKIPPED: no router: WAMPBOX_ROUTER_URLS is empty (run through "
                 "test/router/with_router)\n";
    return 77;  // meson's "skipped"
  }
  std::cout << "router URLs: " << std::getenv("WAMPBOX_ROUTER_URLS") << '\n';
  doctest::Context context(argc, argv);
  return context.run();
}
