// A test router the test itself starts, kills, freezes and restarts on the same ports
// (test/router/run on 127.0.0.1): for the reconnecting client's tests.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef WAMPBOX_TEST_ROUTER_RUN
#error "WAMPBOX_TEST_ROUTER_RUN (the path of test/router/run) must be defined"
#endif

namespace wampbox::test {

/// One test router process. The first start picks free ports; restarts reuse them, so clients
/// find the router again at the same URLs.
class router_process {
 public:
  router_process() {
    char dir[] = "/tmp/wampbox-reconnect.XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    start();
  }
  ~router_process() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  router_process(const router_process&) = delete;
  router_process& operator=(const router_process&) = delete;

  /// The RawSocket/TCP URL (rs://127.0.0.1:PORT).
  const std::string& rs_url() const { return urls_.at(1); }
  /// The WebSocket URL (ws://127.0.0.1:PORT/ws).
  const std::string& ws_url() const { return urls_.at(0); }

  /// Kills the router abruptly (SIGKILL, as a crash); its clients see the connection drop.
  void kill() { stop(SIGKILL); }
  /// Shuts the router down (SIGTERM): it says GOODBYE (wamp.close.system_shutdown) to every
  /// session and flushes what it has to send before it exits.
  void terminate() { stop(SIGTERM); }
  /// Freezes the router (SIGSTOP): connections stay open, nothing is answered.
  void freeze() { ::kill(pid_, SIGSTOP); }
  /// Lets a frozen router go on (SIGCONT).
  void thaw() { ::kill(pid_, SIGCONT); }

  /// Starts the router again on the same ports; waits until it listens.
  void start() {
    std::vector<std::string> args{WAMPBOX_TEST_ROUTER_RUN};
    if (!urls_.empty()) {
      args.insert(args.end(), {"--ws", port_of(ws_url()), "--rs", port_of(rs_url())});
      std::filesystem::remove(socket_path());  // a killed router leaves its socket file
    }
    args.insert(args.end(), {"--unix", socket_path()});
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that crashes leaves no router behind
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::perror("execv test/router/run");
      ::_exit(127);
    }
    ::close(out[1]);
    std::vector<std::string> urls = read_lines(out[0], 3);
    ::close(out[0]);
    if (urls.size() != 3) {
      stop(SIGKILL);
      throw std::runtime_error("the test router did not print its URLs within 30 s");
    }
    if (urls_.empty()) urls_ = urls;
    if (urls != urls_) throw std::runtime_error("the restarted test router has other URLs");
  }

 private:
  std::string socket_path() const { return dir_ + "/router.sock"; }

  static std::string port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    const auto end = url.find('/', colon);
    return url.substr(colon + 1, end == std::string::npos ? end : end - colon - 1);
  }

  /// Reads `count` lines from the router's stdout, within a generous bound (a busy machine
  /// takes seconds to start Python and Twisted).
  static std::vector<std::string> read_lines(int fd, std::size_t count) {
    std::vector<std::string> lines;
    std::string pending;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<std::size_t>(n));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        lines.push_back(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
    return lines;
  }

  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a frozen router must run to handle SIGTERM
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::vector<std::string> urls_;
};

}  // namespace wampbox::test
