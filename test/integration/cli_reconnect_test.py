#!/usr/bin/python3
"""The CLI when its router goes away: `subscribe` and `register` without --reconnect fail, and
with it they survive a router restart.

Starts the test router (test/router/run) itself on 127.0.0.1 and kills it (SIGKILL) or shuts it
down (SIGTERM: GOODBYE) while a command waits. Without --reconnect, subscribe, register and call
must say why on stderr and exit with 5; SIGINT/SIGTERM and --count stay a normal end (exit 0).
With --reconnect, the router is started again on the same ports and the command must come back
by itself (it subscribes or registers again); --max-attempts gives up with exit code 3.

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
EXIT_OK, EXIT_CONNECT_FAILED, EXIT_FAILURE = 0, 3, 5


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
        """Kills the router abruptly (SIGKILL): its connections just close."""
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()

    def terminate(self):
        """Shuts the router down (SIGTERM): it says GOODBYE (wamp.close.system_shutdown) first."""
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)
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


class WithRouter(unittest.TestCase):
    """A router of the test's own, and wampbox commands started against it."""

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

    def wait_exit(self, process, code):
        """Waits for `process` to exit; checks its exit code."""
        self.assertEqual(process.wait(timeout=TIMEOUT), code, self.text(process.err_path))


class ConnectionLoss(WithRouter):
    """Without --reconnect, a lost router is a failure that a script can see."""

    ENDINGS = {'killed': ('kill', 'connection to the router lost'),
               'shut down': ('terminate',
                             'the router ended the session: wamp.close.system_shutdown')}

    def test_subscribe_and_register_fail_when_the_router_goes_away(self):
        commands = {'subscribe': (['subscribe', 'com.example.cli.lost'], 'subscribed to'),
                    'subscribe --count': (['subscribe', 'com.example.cli.lost', '--count', '2'],
                                          'subscribed to'),
                    'register': (['register', 'com.example.cli.lost', '--echo'], 'registered'),
                    'register --count': (['register', 'com.example.cli.lost', '--echo',
                                          '--count', '2'], 'registered')}
        for command, (args, ready) in commands.items():
            for ending, (method, reason) in self.ENDINGS.items():
                with self.subTest(command=command, router=ending):
                    process = self.start(*args)
                    wait_for(lambda: ready in self.text(process.err_path), ready)
                    getattr(self.router, method)()
                    self.router.start()  # for the next round and tearDown
                    self.wait_exit(process, EXIT_FAILURE)
                    self.assertIn('wampbox: ' + reason, self.text(process.err_path))

    def test_call_fails_when_the_router_is_killed(self):
        """Killed: a shut-down router would answer the call first (wamp.error.canceled, exit 2),
        as it ends the callee's session before the caller's."""
        started = os.path.join(self.dir.name, 'started')
        callee = self.start('register', 'com.example.cli.slow',
                            '--exec', f'touch {started}; exec sleep 60')
        wait_for(lambda: 'registered' in self.text(callee.err_path), 'the registration')
        call = self.start('call', 'com.example.cli.slow')
        wait_for(lambda: os.path.exists(started), 'the call to arrive')
        self.router.kill()
        self.router.start()  # for tearDown
        self.wait_exit(call, EXIT_FAILURE)
        self.assertIn('wampbox: connection to the router lost', self.text(call.err_path))

    def test_signals_and_count_are_a_normal_end(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                sub = self.start('subscribe', 'com.example.cli.normal', '--count', '3')
                wait_for(lambda: 'subscribed to' in self.text(sub.err_path), 'the subscription')
                sub.send_signal(sig)
                self.wait_exit(sub, EXIT_OK)
        sub = self.start('subscribe', 'com.example.cli.normal', '--count', '1')
        wait_for(lambda: 'subscribed to' in self.text(sub.err_path), 'the subscription')
        self.assertEqual(self.wampbox('publish', 'com.example.cli.normal', '1',
                                      '--acknowledge').returncode, 0)
        self.wait_exit(sub, EXIT_OK)


class Reconnect(WithRouter):

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
        for count in ([], ['--count', '2']):
            with self.subTest(count=count):
                sub = self.start('subscribe', 'com.example.cli.giveup', '--reconnect',
                                 '--max-attempts', '3', '--max-delay', '0.05', *count)
                wait_for(lambda: 'subscribed to' in self.text(sub.err_path), 'the subscription')
                self.router.kill()
                code = sub.wait(timeout=TIMEOUT)
                self.router.start()  # for the next round and tearDown
                self.assertEqual(code, EXIT_CONNECT_FAILED, self.text(sub.err_path))
                self.assertIn('gave up after 3 attempts', self.text(sub.err_path))

    def test_reconnect_options_need_reconnect(self):
        usage = self.wampbox('subscribe', 'com.example.t', '--max-attempts', '3')
        self.assertEqual(usage.returncode, 1)
        self.assertIn('--reconnect', usage.stderr + usage.stdout)


if __name__ == '__main__':
    WAMPBOX = sys.argv.pop(1)
    unittest.main(verbosity=2)
