// wampbox — marks what libwampbox exports.
//
// The library is built with -fvisibility=hidden, so only declarations marked WAMPBOX_API (classes
// with out-of-line members, free functions defined in lib/) are visible to applications; the
// detail namespace, Boost, nlohmann and simdjson stay inside the library.
#pragma once

/// Exports a class (its out-of-line members, vtable and typeinfo) or a function from libwampbox.
#define WAMPBOX_API __attribute__((visibility("default")))
