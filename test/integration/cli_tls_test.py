#!/usr/bin/python3
"""The wampbox CLI over TLS: --ca-file, --ca-dir, --cert/--key against the test router with TLS
listeners and a PKI made at test time (make_test_certs), and the refusals with their reasons.

usage: cli_tls_test.py PATH/TO/wampbox
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTER = os.path.join(HERE, '..', 'router', 'run')
MAKE_TEST_CERTS = os.path.join(HERE, 'make_test_certs')
EXIT_OK, EXIT_USAGE, EXIT_CONNECT_FAILED, EXIT_FAILURE = 0, 1, 3, 5

WAMPBOX = None


class Router:
    """The test router with TLS listeners (and more arguments), on free loopback ports."""

    def __init__(self, *args):
        self.process = subprocess.Popen([ROUTER] + list(args), stdout=subprocess.PIPE, text=True)
        self.urls = {}
        for _ in range(5):  # ws, rs, unix, wss, rss
            line = self.process.stdout.readline().strip()
            if not line:
                raise RuntimeError('the test router exited before listening')
            self.urls[line.split('://')[0]] = line

    def url(self, scheme):
        """The URL of a listener, on localhost (the router's certificate is for that name)."""
        return self.urls[scheme].replace('127.0.0.1', 'localhost')

    def stop(self):
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def wampbox(*args, timeout=60):
    return subprocess.run([WAMPBOX] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


class CliTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix='wampbox-cli-pki-')
        subprocess.run([MAKE_TEST_CERTS, cls.pki], check=True)
        tls = ['--tls-cert', cls.file('router.pem'), '--tls-key', cls.file('router.key')]
        cls.router = Router(*tls)
        cls.mtls_router = Router(*tls, '--tls-client-ca', cls.file('ca.pem'))

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()
        cls.mtls_router.stop()
        shutil.rmtree(cls.pki, ignore_errors=True)

    @classmethod
    def file(cls, name):
        return os.path.join(cls.pki, name)

    def call_count(self, url, *options):
        return wampbox('--url', url, *options, 'call', 'wamp.session.count')

    def test_verified_call_over_wss_and_rss(self):
        for scheme in ('wss', 'rss'):
            with self.subTest(scheme=scheme):
                done = self.call_count(self.router.url(scheme), '--ca-file', self.file('ca.pem'))
                self.assertEqual(done.returncode, EXIT_OK, done.stderr)
                self.assertIn('"args"', done.stdout)
        done = self.call_count(self.router.url('wss'), '--ca-dir', self.file('ca-dir'))
        self.assertEqual(done.returncode, EXIT_OK, done.stderr)

    def test_unverifiable_router_is_refused_with_the_reason(self):
        cases = [
            ('no CA given: the system store does not know the test CA', self.router.url('wss'),
             [], 'unable to get local issuer certificate'),
            ('a CA that did not sign the router', self.router.url('rss'),
             ['--ca-file', self.file('other-ca.pem')], 'unable to get local issuer certificate'),
            ('the certificate is for localhost, not 127.0.0.1',
             self.router.urls['wss'], ['--ca-file', self.file('ca.pem')],
             'IP address mismatch (certificate is for localhost, not 127.0.0.1)'),
        ]
        for name, url, options, reason in cases:
            with self.subTest(name):
                done = self.call_count(url, *options)
                self.assertEqual(done.returncode, EXIT_CONNECT_FAILED, done.stderr)
                self.assertIn('TLS certificate verification failed', done.stderr)
                self.assertIn(reason, done.stderr)

    def test_mutual_tls(self):
        trust = ['--ca-file', self.file('ca.pem')]
        for scheme in ('wss', 'rss'):
            with self.subTest(scheme=scheme):
                url = self.mtls_router.url(scheme)
                done = self.call_count(url, *trust, '--cert', self.file('client.pem'),
                                       '--key', self.file('client.key'))
                self.assertEqual(done.returncode, EXIT_OK, done.stderr)
                done = self.call_count(url, *trust)
                self.assertEqual(done.returncode, EXIT_CONNECT_FAILED, done.stderr)
                self.assertIn('TLS: ', done.stderr)

    def test_usage_errors(self):
        url = self.router.url('wss')
        cases = [
            ('--cert without --key', ['--cert', self.file('client.pem')], '--key'),
            ('--ca-file that does not exist', ['--ca-file', self.file('missing.pem')],
             'missing.pem'),
        ]
        for name, options, reason in cases:
            with self.subTest(name):
                done = self.call_count(url, *options)
                self.assertEqual(done.returncode, EXIT_USAGE, done.stderr)
                self.assertIn(reason, done.stderr)

    def test_keepalive_notices_a_frozen_router(self):
        """subscribe --count 1 on a router frozen with SIGSTOP: the keep-alive ends it."""
        url = self.router.url('wss')
        subscriber = subprocess.Popen(
            [WAMPBOX, '--url', url, '--ca-file', self.file('ca.pem'), '--keepalive', '0.2',
             '--keepalive-timeout', '0.3', 'subscribe', 'com.example.frozen', '--count', '1'],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertIn('subscribed', subscriber.stderr.readline())
            self.router.process.send_signal(signal.SIGSTOP)
            frozen_at = time.monotonic()
            returncode = subscriber.wait(timeout=30)
            elapsed = time.monotonic() - frozen_at
        finally:
            self.router.process.send_signal(signal.SIGCONT)
            subscriber.kill()
            subscriber.communicate()
        self.assertEqual(returncode, EXIT_FAILURE)
        self.assertLess(elapsed, 0.2 + 0.3 + 2.0)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    WAMPBOX = sys.argv.pop(1)
    unittest.main(verbosity=2)
