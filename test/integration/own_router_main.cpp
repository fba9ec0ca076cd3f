// Main of the integration tests that start their own test router (router_process.hpp): TLS
// listeners with a PKI made at test time, a router frozen with SIGSTOP. They need no router
// from the environment, and none of them can run against Crossbar.io.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
