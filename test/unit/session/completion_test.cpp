// detail::completion: how an operation keeps the application's completion handler.
#include "allocation_probe.hpp"

#include <wampbox/session/session.hpp>

#include <doctest/doctest.h>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <vector>

using namespace wampbox;
namespace asio = boost::asio;
using done = detail::shared_completion<void(int)>;

namespace {

/// An allocator that counts what it hands out.
template <typename T>
struct counting_allocator {
  using value_type = T;
  int* allocations;
  explicit counting_allocator(int* n) : allocations(n) {}
  template <typename U>
  counting_allocator(const counting_allocator<U>& other) : allocations(other.allocations) {}
  T* allocate(std::size_t n) {
    ++*allocations;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
  template <typename U>
  bool operator==(const counting_allocator<U>& other) const {
    return allocations == other.allocations;
  }
};

}  // namespace

TEST_CASE("completion: posted, never inline; the first call wins; copies share the handler") {
  asio::io_context io;
  std::vector<int> got;
  done c([&](int v) { got.push_back(v); }, io.get_executor());
  const done copy = c;
  copy(1);
  CHECK(got.empty());  // posted
  c(2);
  io.run();
  CHECK(got == std::vector<int>{1});
  done{}(3);  // an empty completion ignores calls
}

TEST_CASE("completion: runs on the handler's associated executor, else on the fallback") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool in_strand = false;
  done c(asio::bind_executor(strand, [&](int) { in_strand = strand.running_in_this_thread(); }),
         io.get_executor());
  c(1);
  io.run();
  CHECK(in_strand);
}

TEST_CASE("completion: a handler never called is destroyed with the last copy") {
  asio::io_context io;
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  {
    done c([held = std::move(alive)](int) {}, io.get_executor());
    done copy = c;
    c = done{};
    CHECK_FALSE(watch.expired());
  }
  CHECK(watch.expired());
}

TEST_CASE("completion: kept with the handler's associated allocator") {
  asio::io_context io;
  int allocations = 0;
  bool ran = false;
  // Bound to the io_context's own executor type: any_io_executor would drop the allocator
  // preference of the post (an Asio rule), not the completion's.
  done c(asio::bind_allocator(counting_allocator<void>(&allocations),
                              asio::bind_executor(io.get_executor(), [&](int) { ran = true; })),
         io.get_executor());
  CHECK(allocations == 1);  // the completion itself
  c(1);
  io.run();
  CHECK(ran);
  CHECK(allocations == 2);  // and the posted call
}

TEST_CASE("completion: without an allocator of its own, steady state reaches no operator new") {
  // On a thread running the io_context, Asio's recycling allocator reuses the memory of the
  // previous completion and of the previous post.
  asio::io_context io;
  int runs = 0;
  std::size_t allocations = 0;
  std::function<void()> next = [&] {
    if (++runs > 100) return;
    const test::allocation_probe probe;
    done([&](int) { next(); }, io.get_executor())(runs);
    if (runs > 10) allocations += probe.count();
  };
  asio::post(io, [&] { next(); });
  io.run();
  CHECK(runs == 101);
  CHECK(allocations == 0);
}
