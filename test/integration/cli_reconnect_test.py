#!/usr/bin/python3
"""The CLI's --reconnect: `subscribe` and `register` survive a router restart.

Starts the test router (test/router/run) itself on 127.0.0.1, kills it while a long-running
command waits, starts it again on the same ports, and checks that the command came back by
itself (it subscribes or registers again), and that --max-attempts gives up with exit code 3.

usage: cli_reconnect_test.py PATH/TO/wampbox
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

WAMPBOX = None
RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'router', 'run')
TIMEOUT = 60  # seconds: bound of every wait (a busy machine starts Python slowly)
EXIT_CONNECT_FAILED = 3


class Router:
    """The test router on fixed ports after the first start (free ports then)."""

    def __init__(self, workdir):
        self.socket = os.path.join(workdir, 'router.sock')
        self.urls = None
        self.process = None
        self.start()

    def start(self):
        args = [RUN, '--unix', self.socket]
        if self.urls:
            args += ['--ws', self.urls[0].rsplit(':', 1)[1].split('/')[0],
                     '--rs', self.urls[1].rsplit(':', 1)[1]]
            if os.path.exists(self.socket):
                os.unlink(self.socket)  # a killed router leaves its socket file
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        urls = [self.process.stdout.readline().strip() for _ in range(3)]
        if self.urls is None:
            self.urls = urls
        assert urls == self.urls, f'router restarted on other URLs: {urls}'

    def kill(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()

    @property
    def rs(self):
        return self.urls[1]


def wait_for(predicate, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f'timed out waiting for {what}')


class Reconnect(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix='wampbox-cli-reconnect-')
        self.router = Router(self.dir.name)
        self.processes = []

    def tearDown(self):
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.router.kill()
        self.dir.cleanup()

    def start(self, *args):
        err = open(os.path.join(self.dir.name, f'stderr{len(self.processes)}'), 'w+')
        out = open(os.path.join(self.dir.name, f'stdout{len(self.processes)}'), 'w+')
        p = subprocess.Popen([WAMPBOX, '--url', self.router.rs, *args],
                             stdout=out, stderr=err, text=True)
        p.out_path, p.err_path = out.name, err.name
        self.processes.append(p)
        return p

    @staticmethod
    def text(path):
        with open(path, encoding='utf-8') as f:
            return f.read()

    def wampbox(self, *args):
        return subprocess.run([WAMPBOX, '--url', self.router.rs, *args], capture_output=True,
                              text=True, timeout=TIMEOUT)

    def restart_router(self, process):
        """Kills and restarts the router; waits until `process` joined again."""
        joined = self.text(process.err_path).count('joined realm')
        self.router.kill()
        wait_for(lambda: 'reconnecting' in self.text(process.err_path), 'the loss reported')
        self.router.start()
        wait_for(lambda: self.text(process.err_path).count('joined realm') > joined,
                 'the command to join again')

    def test_subscribe_comes_back_after_a_router_restart(self):
        sub = self.start('subscribe', 'com.example.cli.reconnect', '--count', '2', '--reconnect')
        wait_for(lambda: 'subscribed to' in self.text(sub.err_path), 'the subscription')
        self.assertEqual(self.wampbox('publish', 'com.example.cli.reconnect', '1',
                                      '--acknowledge').returncode, 0)
        wait_for(lambda: self.text(sub.out_path).count('\n') == 1, 'the first event')
        self.restart_router(sub)
        self.assertEqual(self.wampbox('publish', 'com.example.cli.reconnect', '2',
                                      '--acknowledge').returncode, 0)
        self.assertEqual(sub.wait(timeout=TIMEOUT), 0, self.text(sub.err_path))
        lines = self.text(sub.out_path).splitlines()
        self.assertEqual([line.split('"args":')[1].split(',')[0] for line in lines],
                         ['[1]', '[2]'])

    def test_register_comes_back_after_a_router_restart(self):
        reg = self.start('register', 'com.example.cli.echo', '--echo', '--reconnect')
        wait_for(lambda: 'registered' in self.text(reg.err_path), 'the registration')
        self.restart_router(reg)
        call = self.wampbox('call', 'com.example.cli.echo', '7')
        self.assertEqual(call.returncode, 0, call.stderr)
        self.assertIn('"args":[7]', call.stdout)
        reg.send_signal(signal.SIGINT)
        self.assertEqual(reg.wait(timeout=TIMEOUT), 0, self.text(reg.err_path))

    def test_max_attempts_gives_up_with_exit_code_3(self):
        sub = self.start('subscribe', 'com.example.cli.giveup', '--reconnect',
                         '--max-attempts', '3', '--max-delay', '0.05')
        wait_for(lambda: 'subscribed to' in self.text(sub.err_path), 'the subscription')
        self.router.kill()
        code = sub.wait(timeout=TIMEOUT)
        self.router.start()  # for tearDown
        self.assertEqual(code, EXIT_CONNECT_FAILED, self.text(sub.err_path))
        self.assertIn('gave up after 3 attempts', self.text(sub.err_path))

    def test_reconnect_options_need_reconnect(self):
        usage = self.wampbox('subscribe', 'com.example.t', '--max-attempts', '3')
        self.assertEqual(usage.returncode, 1)
        self.assertIn('--reconnect', usage.stderr + usage.stdout)


if __name__ == '__main__':
    WAMPBOX = sys.argv.pop(1)
    unittest.main(verbosity=2)
