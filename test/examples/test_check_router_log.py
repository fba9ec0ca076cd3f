"""Tests scripts/check-router-log, the demo's proof that the router saw no plaintext.

The logs are written by the test router's own formatter (test/router/message_log.py) from
Autobahn|Python message objects, so they have exactly the format of a real `--log-messages` run.
The check must pass on a log of encrypted traffic, and fail on the same log once one payload
value travels in clear, once a checked word is part of a URI, and on a log without traffic.
"""

import io
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'test', 'router'))

import txaio  # noqa: E402

txaio.use_twisted()

from autobahn.wamp import message  # noqa: E402

from message_log import MessageLog  # noqa: E402

CHECK = os.path.join(ROOT, 'scripts', 'check-router-log')
WORDS = ['thermo-Q7', '°C', 'alice', 'EUR']
CIPHER = {'enc_algo': 'cryptobox', 'enc_serializer': 'json'}


class FakeSession:
    def label(self):
        return 's1'


def encrypted_traffic():
    """One encrypted message of each kind the check requires, as the router routes them."""
    blob = os.urandom(120)
    return [
        ('rx', message.Publish(1, 'com.example.sensors.kitchen', payload=blob, **CIPHER)),
        ('tx', message.Event(2, 3, payload=blob, **CIPHER)),
        ('rx', message.Call(4, 'com.example.backend.balance', payload=blob, **CIPHER)),
        ('tx', message.Invocation(5, 6, payload=blob, **CIPHER)),
        ('rx', message.Yield(5, payload=blob, **CIPHER)),
        ('tx', message.Result(4, payload=blob, **CIPHER)),
    ]


def write_log(path, traffic):
    stream = io.StringIO()
    log = MessageLog(True, stream)
    for direction, msg in traffic:
        log.log(direction, FakeSession(), msg)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(stream.getvalue())


class CheckRouterLog(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.log = os.path.join(self.dir.name, 'router.log')

    def tearDown(self):
        self.dir.cleanup()

    def check(self, traffic, words=WORDS):
        write_log(self.log, traffic)
        return subprocess.run([CHECK, self.log, *words], capture_output=True, text=True)

    def test_encrypted_traffic_passes(self):
        done = self.check(encrypted_traffic())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('6 routed messages carried ciphertext', done.stdout)

    def test_a_plaintext_payload_value_fails(self):
        for word in WORDS:
            with self.subTest(word=word):
                leak = ('rx', message.Publish(9, 'com.example.sensors.kitchen',
                                              args=[21.5, word], kwargs={'seq': 1}))
                done = self.check(encrypted_traffic() + [leak])
                self.assertEqual(done.returncode, 1, done.stdout)
                self.assertIn('plaintext reached the router', done.stderr)
                self.assertIn(word, done.stderr)

    def test_a_plaintext_kwarg_value_fails(self):
        leak = ('tx', message.Result(7, kwargs={'currency': 'EUR'}))
        done = self.check(encrypted_traffic() + [leak])
        self.assertEqual(done.returncode, 1)

    def test_a_word_inside_a_uri_is_refused(self):
        done = self.check(encrypted_traffic(), ['kitchen', 'alice'])
        self.assertEqual(done.returncode, 2)
        self.assertIn('com.example.sensors.kitchen', done.stderr)

    def test_a_log_without_encrypted_traffic_proves_nothing(self):
        done = self.check([])
        self.assertEqual(done.returncode, 2)
        self.assertIn('nothing was routed encrypted', done.stderr)
        done = self.check(encrypted_traffic()[:2])  # pub/sub only: no RPC was routed
        self.assertEqual(done.returncode, 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
