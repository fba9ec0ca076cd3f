#include "exec.hpp"

#include <wampbox/wire/serializer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <utility>

namespace wampbox::cli {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::use_awaitable;

constexpr std::size_t max_output = 16 * 1024 * 1024;
constexpr std::size_t max_stderr_reported = 4096;

[[noreturn]] void fail(const std::string& message, int exit_status,
                       const std::string& stderr_text) {
  throw wamp_error(
      exec_failed_uri, value::array({message}),
      value{{"exit_status", exit_status}, {"stderr", stderr_text.substr(0, max_stderr_reported)}});
}

/// A pipe whose ends close themselves.
struct pipe_pair {
  int read_end = -1;
  int write_end = -1;
  pipe_pair() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0)
      throw wamp_error(exec_failed_uri, value::array({"cannot create a pipe"}));
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_pair() {
    for (int fd : {read_end, write_end})
      if (fd >= 0) ::close(fd);
  }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
  /// Hands over one end (the pipe no longer closes it).
  static int take(int& fd) { return std::exchange(fd, -1); }
};

/// A started command: its pid and, once reaped, its wait status.
struct child {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;
};

/// Forks /bin/sh -c `command` with the three pipes as its standard streams.
pid_t spawn(const std::string& command, pipe_pair& in, pipe_pair& out, pipe_pair& err) {
  const pid_t pid = ::fork();
  if (pid < 0) throw wamp_error(exec_failed_uri, value::array({"cannot start the command"}));
  if (pid == 0) {  // the child: only async-signal-safe calls from here on
    ::dup2(in.read_end, STDIN_FILENO);
    ::dup2(out.write_end, STDOUT_FILENO);
    ::dup2(err.write_end, STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

asio::awaitable<void> write_all(asio::posix::stream_descriptor& to, const std::string& data) {
  // A command that does not read its input is fine: EPIPE ends the write.
  co_await asio::async_write(to, asio::buffer(data), asio::as_tuple(use_awaitable));
  to.close();
}

asio::awaitable<void> read_all(asio::posix::stream_descriptor& from, std::string& into) {
  co_await asio::async_read(from, asio::dynamic_buffer(into, max_output + 1),
                            asio::as_tuple(use_awaitable));
}

/// Waits for the child to exit without blocking the executor.
asio::awaitable<void> reap(child& c) {
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (auto wait = std::chrono::milliseconds(1);;
       wait = std::min(wait * 2, std::chrono::milliseconds(50))) {
    const pid_t done = ::waitpid(c.pid, &c.status, WNOHANG);
    if (done == c.pid || done < 0) break;
    poll.expires_after(wait);
    co_await poll.async_wait(use_awaitable);
  }
  c.reaped = true;
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

asio::awaitable<call_result> run(std::string command, std::string input, responder answer) {
  auto ex = co_await asio::this_coro::executor;
  pipe_pair in, out, err;
  auto c = std::make_shared<child>();
  c->pid = spawn(command, in, out, err);
  // Canceled or timed out at the router: stop the command (not once it was reaped: the pid may
  // then belong to another process).
  answer.on_interrupt([c] {
    if (!c->reaped) ::kill(c->pid, SIGTERM);
  });
  asio::posix::stream_descriptor to_child(ex, pipe_pair::take(in.write_end));
  asio::posix::stream_descriptor from_child(ex, pipe_pair::take(out.read_end));
  asio::posix::stream_descriptor errors_of_child(ex, pipe_pair::take(err.read_end));
  for (auto* fd : {&in.read_end, &out.write_end, &err.write_end}) ::close(pipe_pair::take(*fd));
  std::string output, errors;
  co_await (write_all(to_child, input) && read_all(from_child, output) &&
            read_all(errors_of_child, errors));
  co_await reap(*c);
  const int status = exit_status(c->status);
  if (status != 0) {
    std::string message = "command exited with status " + std::to_string(status);
    fail(errors.empty() ? message : message + ": " + errors.substr(0, max_stderr_reported), status,
         errors);
  }
  if (output.size() > max_output) fail("command output above 16 MiB", status, errors);
  co_return answer_from_output(output);
}

}  // namespace

call_result answer_from_output(const std::string& output) {
  call_result result;
  if (output.find_first_not_of(" \t\r\n") == std::string::npos) return result;
  value parsed;
  try {
    parsed = wire::read_json(output);
  } catch (const std::exception& e) {
    fail(std::string("command output is not JSON: ") + e.what(), 0, "");
  }
  const bool answer_object =
      parsed.is_object() && !parsed.empty() &&
      std::all_of(parsed.items().begin(), parsed.items().end(),
                  [](const auto& item) { return item.key() == "args" || item.key() == "kwargs"; });
  if (!answer_object) {
    result.args = parsed.is_array() ? parsed : value::array({parsed});
    return result;
  }
  result.args = parsed.value("args", value());
  result.kwargs = parsed.value("kwargs", value());
  if (!result.args.is_null() && !result.args.is_array())
    fail("\"args\" in the command output must be an array", 0, "");
  if (!result.kwargs.is_null() && !result.kwargs.is_object())
    fail("\"kwargs\" in the command output must be an object", 0, "");
  return result;
}

void answer_by_command(const std::string& command, const invocation& inv, responder answer,
                       asio::any_io_executor ex, std::function<void()> answered) {
  std::string input;
  wire::write_json(value{{"procedure", inv.procedure},
                         {"args", inv.args.is_null() ? value::array() : inv.args},
                         {"kwargs", inv.kwargs.is_null() ? value::object() : inv.kwargs}},
                   input);
  asio::co_spawn(
      ex, run(command, std::move(input), answer),
      [answer, answered = std::move(answered)](std::exception_ptr e, call_result result) mutable {
        if (e)
          answer.fail(e);
        else
          answer.yield(std::move(result));
        answered();
      });
}

}  // namespace wampbox::cli
