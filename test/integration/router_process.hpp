// Integration tests that need a router of their own (TLS listeners with certificates the test
// made, a router to freeze with SIGSTOP): the project's test router as a child process, and a
// throw-away PKI made by make_test_certs.
#pragma once

#include <doctest/doctest.h>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace wampbox::test {

/// The source tree (for test/router/run and make_test_certs); set by meson.
inline std::filesystem::path source_dir() { return WAMPBOX_SOURCE_DIR; }

/// A fresh directory of test certificates (see test/integration/make_test_certs), removed at
/// the end.
class test_pki {
 public:
  test_pki() {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "wampbox-pki.XXXXXX").string();
    if (!::mkdtemp(dir_template.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = dir_template;
    const auto script = source_dir() / "test" / "integration" / "make_test_certs";
    const std::string command = "'" + script.string() + "' '" + dir_.string() + "'";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "make_test_certs failed");
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  /// A file of the PKI, e.g. "ca.pem".
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

/// The test router (test/router/run ARGS...) as a child process on free loopback ports; stopped
/// (also when frozen) by the destructor. It can be killed and started again on the same ws://
/// and rs:// ports, so that clients find it again (the reconnecting client's tests).
class router_process {
 public:
  explicit router_process(std::vector<std::string> args) : args_(std::move(args)) { start(args_); }
  ~router_process() { stop(); }
  router_process(const router_process&) = delete;
  router_process& operator=(const router_process&) = delete;

  /// The first URL with `scheme` ("ws", "rs", "unix", "wss", "rss").
  std::string url(const std::string& scheme) const {
    for (const auto& u : urls_)
      if (u.rfind(scheme + "://", 0) == 0) return u;
    throw std::runtime_error("the test router has no " + scheme + ":// listener");
  }
  /// Freezes the router (SIGSTOP): its connections stay open, nothing is answered.
  void freeze() { ::kill(pid_, SIGSTOP); }
  /// Lets a frozen router run again.
  void thaw() { ::kill(pid_, SIGCONT); }
  /// Kills the router abruptly (SIGKILL, as a crash): what it had not yet written is lost.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    // What the router would have removed at its exit: its Unix socket and private temp dir.
    const auto socket = std::filesystem::path(url("unix").substr(std::string("unix://").size()));
    std::error_code ignored;
    if (socket.parent_path().filename().string().rfind("wampbox-router-", 0) == 0)
      std::filesystem::remove_all(socket.parent_path(), ignored);
  }
  /// Shuts the router down (SIGTERM): it says GOODBYE (wamp.close.system_shutdown) to every
  /// session and writes out what it has to send before it exits.
  void terminate() { stop(); }
  /// Starts a killed or terminated router again, on the same ws:// and rs:// ports (the other
  /// listeners get new ones).
  void restart() {
    auto args = args_;
    args.insert(args.end(), {"--ws", port_of(url("ws")), "--rs", port_of(url("rs"))});
    urls_.clear();
    start(args);
  }

 private:
  void start(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const std::string run = (source_dir() / "test" / "router" / "run").string();
    std::vector<char*> argv{const_cast<char*>(run.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    const int spawned = ::posix_spawn(&pid_, run.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
      ::close(out[0]);
      throw std::runtime_error("cannot start " + run);
    }
    read_urls(out[0], expected_url_lines(args));
    ::close(out[0]);
  }

  /// The port of "scheme://127.0.0.1:PORT[/path]".
  static std::string port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    const auto slash = url.find('/', colon);
    return url.substr(colon + 1, slash == std::string::npos ? slash : slash - colon - 1);
  }

  // run prints ws://, rs://, unix:// and, with --tls-cert, wss:// and rss://.
  static std::size_t expected_url_lines(const std::vector<std::string>& args) {
    for (const auto& a : args)
      if (a == "--tls-cert") return 5;
    return 3;
  }

  void read_urls(int fd, std::size_t count) {
    // Generous: on a loaded machine Twisted alone takes seconds to start.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string text;
    while (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        throw std::runtime_error("the test router printed no URLs in time");
      char buffer[512];
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) throw std::runtime_error("the test router exited before listening");
      text.append(buffer, static_cast<std::size_t>(n));
    }
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
      urls_.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    const auto pid = std::exchange(pid_, -1);
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::vector<std::string> urls_;
};

}  // namespace wampbox::test
