"""Interop tests: the wampbox CLI against Autobahn|Python peers, with end-to-end encryption.

    with_router /usr/bin/python3 test_interop.py PATH/TO/wampbox [unittest options]

Run by meson through test/router/with_router, which sets WAMPBOX_ROUTER_URLS (ws://, rs://
and usually unix://); without it the test says SKIPPED and exits 77. Against an external router
(WAMPBOX_TEST_ROUTER set, e.g. Crossbar.io) the checks of what the router saw read that router's
log, the file WAMPBOX_TEST_ROUTER_LOG names (Crossbar.io: --loglevel trace --logtofile); without it
they report themselves skipped. Against the project's test router they start one of their own with
--log-messages. The Autobahn side is
test/interop/autobahn_peer.py (an autobahn.wamp.cryptobox.KeyRing loaded from the same key-ring
files). Key rings are written at test time:
  * split: the fixed keys of payload-encryption.md section 1.5 for the prefix "com.interop.";
    the publisher/caller ring holds originator_priv + responder_pub, the subscriber/callee ring
    responder_priv + originator_pub, so each side holds only its own private key;
  * shared: one fresh key for both roles as the default key "" (made by `wampbox keygen --shared`);
  * other: another fresh shared key, i.e. the wrong key for everything else.
  * secure_publisher, secure_subscriber: secure-mode rings (test 8) made by `wampbox ring` for the
    prefix "com.interop.secure": the publisher "sensor", and a subscriber that trusts it.
Error URIs are com.interop.error.*, covered by the "com.interop." prefix (split) or by the
default key (shared): Autobahn encrypts an ERROR whenever a key matches its URI.
"""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from collections import namedtuple

from nacl.encoding import Base64Encoder
from nacl.public import Box, PrivateKey, PublicKey

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = '/usr/bin/python3'
PEER = os.path.join(HERE, 'autobahn_peer.py')
ROUTER_RUN = os.path.join(HERE, '..', 'router', 'run')
EXIT_SKIPPED = 77
# the external router under test (its URLs), and the file it logs every WAMP message to
EXTERNAL_ROUTER = os.environ.get('WAMPBOX_TEST_ROUTER', '')
EXTERNAL_ROUTER_LOG = os.environ.get('WAMPBOX_TEST_ROUTER_LOG', '')

# seconds: the CLI's own --timeout, the Autobahn peer's --timeout, and the bound of every wait here
WAMPBOX_TIMEOUT = 6
PEER_TIMEOUT = 15
WAIT_TIMEOUT = 25

# fixed test keys of payload-encryption.md section 1.5
ORIGINATOR_PRIV = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA='
ORIGINATOR_PUB = 'B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw='
RESPONDER_PRIV = 'ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A='
RESPONDER_PUB = 'WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns='

PREFIX = 'com.interop.'
# secure mode (test 8): its own prefix, in none of the cryptobox rings
SECURE_PREFIX = PREFIX + 'secure'
SECURE_IDENTITY = {}
ERROR_URI = PREFIX + 'error.failed'
# what autobahn_peer's callee raises for kwargs {"fail": uri}
PEER_ERROR_ARGS = ['failed on request']
PEER_ERROR_KWARGS = {'code': 7}

# filled by main(): the CLI binary, the router URLs by scheme, the key-ring files by name
WAMPBOX = None
ROUTER = {}
KEYRINGS = {}


# ---------------------------------------------------------------- payloads

def binary(data):
    """A binary WAMP value in the JSON convention both tools read: "\\u0000" + base64."""
    return '\x00' + base64.b64encode(data).decode('ascii')


def payload(marker):
    """args and kwargs exercising unicode, nesting, exact floats, big ints and binary; `marker` is a
    unique secret string that must never show up anywhere but in a decrypting peer's output."""
    args = [marker, 'h\u20acllo w\u00f6rld \u2713 \u65e5\u672c \U0001f600', 1, -7, 2 ** 53,
            {'nested': {'list': [1.5, -0.125, 3.0, 0.1 + 0.2, 1e-300, None, True, False, '']}},
            binary(b'\x00\x01\x02\xff'), {}]
    kwargs = {'marker': marker, '\u043a\u043b\u044e\u0447': '\u5024', 'pi': 3.141592653589793,
              'blob': binary(bytes(range(40))), 'deep': [[{'a': [{'b': 'c'}]}]]}
    return args, kwargs


def canonical(value):
    """Comparable form of a value printed by either tool: binary ("\\u0000"+base64 or
    {"$binary": base64}) becomes bytes, floats are tagged so 3.0 never equals 3."""
    if isinstance(value, dict):
        if set(value) == {'$binary'}:
            return base64.b64decode(value['$binary'], validate=True)
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, str) and value.startswith('\x00'):
        return base64.b64decode(value[1:], validate=True)
    if isinstance(value, float):
        return ('float', value)
    return value


def to_peer_json(value):
    """Our payload as autobahn_peer.py's --args/--kwargs JSON (binary as {"$binary": base64})."""
    def convert(v):
        if isinstance(v, str) and v.startswith('\x00'):
            return {'$binary': v[1:]}
        if isinstance(v, list):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v
    return json.dumps(convert(value), ensure_ascii=False)


def cli_data(args, kwargs):
    """Our payload as wampbox ARGs and --kw K=V, each value as JSON text."""
    words = [json.dumps(a, ensure_ascii=False) for a in args]
    for key, value in kwargs.items():
        words += ['--kw', '{}={}'.format(key, json.dumps(value, ensure_ascii=False))]
    return words


def fresh_uri(name):
    """A URI of its own per check, under the keyed prefix, so checks never see each other's traffic."""
    return '{}{}.{}'.format(PREFIX, name, uuid.uuid4().hex[:12])


def fresh_marker():
    return 'SECRET-MARKER-' + uuid.uuid4().hex


def decrypt_split(payload_bytes):
    """Open a cryptobox payload sealed with the split ring's keys (the responder's view)."""
    box = Box(PrivateKey(RESPONDER_PRIV, encoder=Base64Encoder), PublicKey(ORIGINATOR_PUB, encoder=Base64Encoder))
    return json.loads(box.decrypt(payload_bytes).decode('utf-8'))


# ---------------------------------------------------------------- processes

class Lines:
    """Lines of one pipe, collected by a thread so that every wait can have a timeout."""

    def __init__(self, stream):
        self._stream = stream
        self._lines = []
        self._closed = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self._stream:
            with self._condition:
                self._lines.append(line.rstrip('\n'))
                self._condition.notify_all()
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def wait_for(self, predicate, timeout=WAIT_TIMEOUT):
        """The first line satisfying `predicate`; None if the pipe closes or time runs out first."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for line in self._lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._condition.wait(remaining)

    def all(self, timeout=WAIT_TIMEOUT):
        """Every line, once the pipe has closed."""
        self._thread.join(timeout)
        with self._condition:
            return list(self._lines)

    def close(self):
        """Once the writer has exited: read to the end, then close the pipe."""
        self._thread.join(WAIT_TIMEOUT)
        self._stream.close()


class Process:
    """A child process (wampbox or autobahn_peer) with its stdout and stderr read line by line."""

    def __init__(self, argv):
        self.argv = argv
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, encoding='utf-8')
        self.out = Lines(self.popen.stdout)
        self.err = Lines(self.popen.stderr)

    def describe(self):
        return '{}\n  stdout: {}\n  stderr: {}'.format(' '.join(self.argv), self.out.all(0), self.err.all(0))

    def finish(self, timeout=WAIT_TIMEOUT):
        """Wait for the exit; returns (exit code, stdout lines, stderr text). A hung process is killed
        and reported as a failure."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError('process did not finish within {} s: {}'.format(timeout, self.describe()))
        self.close()
        return code, self.out.all(), '\n'.join(self.err.all())

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        self.close()

    def close(self):
        if not self.popen.stdout.closed:
            self.out.close()
            self.err.close()


class RouterLog:
    """A router's log file, read from where it ended when the check began (an external router's
    log may hold earlier runs). test_router_format: written by test/router/run --log-messages."""

    def __init__(self, path, test_router_format):
        self.path = path
        self.test_router_format = test_router_format
        self._start = os.path.getsize(path)

    def text(self):
        with open(self.path, encoding='utf-8', errors='replace') as stream:
            stream.seek(self._start)
            return stream.read()

    def wait_for(self, needles, timeout=WAIT_TIMEOUT):
        """The new log text once it contains every needle (a router may write its log late), or
        whatever it holds when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(needle in text for needle in needles) or time.monotonic() >= deadline:
                return text
            time.sleep(0.1)


def wampbox_argv(url, serializer, keyring, *command):
    argv = [WAMPBOX, '--url', url, '--serializer', serializer, '--timeout', str(WAMPBOX_TIMEOUT)]
    if keyring:
        argv += ['--keyring', KEYRINGS[keyring]]
    return argv + list(command)


def peer_argv(url, serializer, keyring, *mode):
    argv = [PYTHON, PEER, '--url', url, '--serializer', serializer, '--timeout', str(PEER_TIMEOUT)]
    if keyring:
        argv += ['--keyring', KEYRINGS[keyring]]
    return argv + list(mode)


class InteropTestCase(unittest.TestCase):
    """Starts processes, waits for their "ready" signals, and kills whatever is left in tearDown."""

    def setUp(self):
        self._processes = []

    def tearDown(self):
        for process in self._processes:
            process.kill()

    def start(self, argv):
        process = Process(argv)
        self._processes.append(process)
        return process

    def wait_ready(self, process, lines, marker):
        if lines.wait_for(lambda line: line.startswith(marker)) is None:
            process.kill()
            self.fail('no "{}" from {}'.format(marker, process.describe()))
        return process

    # long-lived peers: returned once subscribed/registered

    def wampbox_subscriber(self, url, serializer, keyring, topic, count):
        process = self.start(wampbox_argv(url, serializer, keyring, 'subscribe', topic, '--count', str(count)))
        return self.wait_ready(process, process.err, 'subscribed to ')

    def wampbox_callee(self, url, serializer, keyring, procedure, count):
        process = self.start(wampbox_argv(url, serializer, keyring, 'register', procedure, '--echo',
                                          '--count', str(count)))
        return self.wait_ready(process, process.err, 'registered ')

    def peer_subscriber(self, url, serializer, keyring, topic, count):
        """Not yet waited for: Autobahn peers take ~1 s to start, so callers start several, then wait."""
        return self.start(peer_argv(url, serializer, keyring, 'subscribe', topic, '--count', str(count)))

    def peer_callee(self, url, serializer, keyring, procedure, count):
        return self.start(peer_argv(url, serializer, keyring, 'callee', procedure, '--count', str(count)))

    def peer_ready(self, process):
        return self.wait_ready(process, process.out, 'ready')

    # short-lived peers: run to the end

    def wampbox(self, url, serializer, keyring, *command):
        return self.start(wampbox_argv(url, serializer, keyring, *command)).finish()

    def wampbox_publish(self, url, serializer, keyring, topic, args, kwargs):
        code, _, stderr = self.wampbox(url, serializer, keyring, 'publish', topic, *cli_data(args, kwargs),
                                       '--acknowledge')
        self.assertEqual(code, 0, stderr)

    def peer(self, url, serializer, keyring, *mode):
        return self.start(peer_argv(url, serializer, keyring, *mode)).finish()

    def peer_publish(self, url, serializer, keyring, topic, args, kwargs):
        code, _, stderr = self.peer(url, serializer, keyring, 'publish', topic, '--args', to_peer_json(args),
                                    '--kwargs', to_peer_json(kwargs))
        self.assertEqual(code, 0, stderr)

    # a router whose log shows what it saw

    @staticmethod
    def unavailable_log_reason():
        return ("the external router's log is not available: set WAMPBOX_TEST_ROUTER_LOG to the file it logs "
                "every WAMP message to (Crossbar.io: crossbar start --loglevel trace --logtofile, see "
                "router-config/README.md)")

    def watched_router(self):
        """router_with_optional_log(), skipping the test when the external router's log is not available."""
        urls, log = self.router_with_optional_log()
        if log is None:
            self.skipTest(self.unavailable_log_reason())
        return urls, log

    def router_with_optional_log(self):
        """(URLs by scheme, RouterLog) of a router whose every WAMP message is logged: the external
        router with the log WAMPBOX_TEST_ROUTER_LOG names (its log None if that is not set), else a
        test router of this test's own with --log-messages."""
        if EXTERNAL_ROUTER:
            if not EXTERNAL_ROUTER_LOG:
                return ROUTER, None
            if not os.path.isfile(EXTERNAL_ROUTER_LOG):
                self.fail('WAMPBOX_TEST_ROUTER_LOG names no file: {}'.format(EXTERNAL_ROUTER_LOG))
            return ROUTER, RouterLog(EXTERNAL_ROUTER_LOG, test_router_format=False)
        directory = tempfile.TemporaryDirectory(prefix='wampbox-router-log-')
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, 'router.log')
        with open(path, 'w', encoding='utf-8') as log_file:
            router = subprocess.Popen([ROUTER_RUN, '--log-messages'], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=log_file, text=True)
        output = Lines(router.stdout)

        def stop():
            if router.poll() is None:
                router.send_signal(signal.SIGTERM)
                try:
                    router.wait(WAIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    router.kill()
                    router.wait()
            output.close()

        self.addCleanup(stop)
        schemes = ('ws', 'rs', 'unix')
        lines = [output.wait_for(lambda line, scheme=scheme: line.startswith(scheme + '://')) for scheme in schemes]
        if None in lines:
            self.fail('the router printed no URLs: {}'.format(output.all(0)))
        return dict(zip(schemes, lines)), RouterLog(path, test_router_format=True)

    def assert_router_saw_only_ciphertext(self, log, uris, data, counts):
        """The router's log records this test's traffic (every URI in `uris` shows up: URIs travel in
        clear), yet no payload value of `data`. In the test router's format, also: exactly `counts`
        messages of each kind, each of them with its payload as ciphertext."""
        text = log.wait_for(uris)
        for uri in uris:
            self.assertIn(uri, text, 'the router log does not record the WAMP messages')
        for args, kwargs in data:
            self.assertNotIn(kwargs['marker'], text)
            self.assertNotIn(args[1], text)
        if not log.test_router_format:
            return
        seen = dict.fromkeys(counts, 0)
        for line in text.splitlines():
            # "router <- conn#4 session=123 PUBLISH [16, ...]"
            match = re.match(r'router (?:<-|->) .*? ([A-Z]+) \[', line)
            if match and match.group(1) in seen:
                seen[match.group(1)] += 1
                self.assertIn(' bytes ciphertext: ', line)
        self.assertEqual(seen, counts, text)

    # assertions

    def assert_data(self, line, args, kwargs):
        """An output line of either tool carries exactly these args and kwargs."""
        data = json.loads(line)
        self.assertEqual((canonical(data['args']), canonical(data['kwargs'])), (canonical(args), canonical(kwargs)))
        return data

    def assert_finished(self, process, expected_lines):
        """The process exited 0 having printed exactly `expected_lines` stdout lines (after "ready")."""
        code, out, err = process.finish()
        self.assertEqual(code, 0, err)
        data_lines = [line for line in out if line != 'ready']
        self.assertEqual(len(data_lines), expected_lines, out)
        return data_lines, err

    def assert_wamp_error(self, result, uri, args, kwargs):
        """A wampbox call ended with exit 2 and the WAMP error, decrypted, on stderr."""
        code, out, err = result
        self.assertEqual((code, out), (2, []), err)
        prefix = 'wampbox: WAMP error '
        lines = [line for line in err.splitlines() if line.startswith(prefix)]
        self.assertEqual(len(lines), 1, err)
        error = json.loads(lines[0][len(prefix):])
        self.assertEqual((error['error'], canonical(error['args']), canonical(error['kwargs'])),
                         (uri, canonical(args), canonical(kwargs)))


# ---------------------------------------------------------------- the matrix

Combo = namedtuple('Combo', 'transport wampbox_serializer peer_serializer ring')

# A covering subset, not the full product (each Autobahn peer costs ~1 s to start):
# json and msgpack each on rs:// and ws:// with both ring kinds, both same and mixed serializers
# on the two ends (the encrypted payload is JSON whatever the transport serializer), plus
# cbor and unix:// once. Every direction (tests 1-4) runs all five.
COMBOS = [
    Combo('rs', 'json', 'json', 'split'),
    Combo('ws', 'msgpack', 'msgpack', 'shared'),
    Combo('ws', 'json', 'msgpack', 'split'),
    Combo('rs', 'msgpack', 'json', 'shared'),
    Combo('unix', 'cbor', 'cbor', 'split'),
]


def ring_of(combo, role):
    """The key ring of one end: the originator (publisher/caller) or the responder."""
    if combo.ring == 'shared':
        return 'shared'
    return 'originator' if role == 'originator' else 'responder'


class EncryptedInteropTests(InteropTestCase):
    """Tests 1-4: encrypted pub/sub and RPC in both directions between wampbox and Autobahn."""

    def combos(self, urls=None):
        """The combos the router (`urls`, default the one under test) can serve: an external router may
        have no unix:// listener. Never none, so that no test passes having run nothing."""
        urls = ROUTER if urls is None else urls
        combos = [combo for combo in COMBOS if combo.transport in urls]
        self.assertTrue(combos, 'the router offers none of the transports of COMBOS: {}'.format(urls))
        return combos

    def test_1_wampbox_publisher_to_autobahn_subscriber(self):
        cases = [(combo, fresh_uri('pub1'), payload(fresh_marker())) for combo in self.combos()]
        subscribers = [self.peer_subscriber(ROUTER[c.transport], c.peer_serializer, ring_of(c, 'responder'), topic, 1)
                       for c, topic, _ in cases]
        for subscriber in subscribers:
            self.peer_ready(subscriber)
        for (combo, topic, (args, kwargs)), subscriber in zip(cases, subscribers):
            with self.subTest(combo=combo):
                self.wampbox_publish(ROUTER[combo.transport], combo.wampbox_serializer, ring_of(combo, 'originator'),
                                     topic, args, kwargs)
                (line,), _ = self.assert_finished(subscriber, 1)
                event = self.assert_data(line, args, kwargs)
                self.assertEqual(event['details']['enc_algo'], 'cryptobox')

    def test_1b_array_arguments_stay_whole(self):
        """A positional ARG that is a JSON array is one argument (not split into its elements)."""
        combo = self.combos()[0]
        topic, marker = fresh_uri('arrays'), fresh_marker()
        args, kwargs = [marker, [], [1, 2], [[3], {'x': [4]}]], {'marker': marker}
        subscriber = self.peer_ready(self.peer_subscriber(ROUTER[combo.transport], combo.peer_serializer,
                                                          ring_of(combo, 'responder'), topic, 1))
        self.wampbox_publish(ROUTER[combo.transport], combo.wampbox_serializer, ring_of(combo, 'originator'),
                             topic, args, kwargs)
        (line,), _ = self.assert_finished(subscriber, 1)
        self.assert_data(line, args, kwargs)

    def test_2_autobahn_publisher_to_wampbox_subscriber(self):
        for combo in self.combos():
            with self.subTest(combo=combo):
                topic, (args, kwargs) = fresh_uri('pub2'), payload(fresh_marker())
                url = ROUTER[combo.transport]
                subscriber = self.wampbox_subscriber(url, combo.wampbox_serializer, ring_of(combo, 'responder'),
                                                     topic, 1)
                self.peer_publish(url, combo.peer_serializer, ring_of(combo, 'originator'), topic, args, kwargs)
                (line,), _ = self.assert_finished(subscriber, 1)
                event = self.assert_data(line, args, kwargs)
                self.assertEqual(event['details']['enc_algo'], 'cryptobox')

    def test_3_wampbox_caller_to_autobahn_callee(self):
        """Echo (encrypted CALL and RESULT), then the callee raising: the encrypted ERROR is decrypted."""
        cases = [(combo, fresh_uri('proc3')) for combo in self.combos()]
        callees = [self.peer_callee(ROUTER[c.transport], c.peer_serializer, ring_of(c, 'responder'), procedure, 2)
                   for c, procedure in cases]
        for callee in callees:
            self.peer_ready(callee)
        for (combo, procedure), callee in zip(cases, callees):
            with self.subTest(combo=combo):
                url, keyring = ROUTER[combo.transport], ring_of(combo, 'originator')
                args, kwargs = payload(fresh_marker())
                code, out, err = self.wampbox(url, combo.wampbox_serializer, keyring, 'call', procedure,
                                              *cli_data(args, kwargs))
                self.assertEqual((code, len(out)), (0, 1), err)
                result = self.assert_data(out[0], args, kwargs)
                self.assertEqual(result['details']['enc_algo'], 'cryptobox')

                failing = {'fail': ERROR_URI, 'marker': fresh_marker()}
                self.assert_wamp_error(self.wampbox(url, combo.wampbox_serializer, keyring, 'call', procedure, '1',
                                                    *cli_data([], failing)),
                                       ERROR_URI, PEER_ERROR_ARGS, PEER_ERROR_KWARGS)
                invocations, _ = self.assert_finished(callee, 2)
                for line, (inv_args, inv_kwargs) in zip(invocations, [(args, kwargs), ([1], failing)]):
                    invocation = self.assert_data(line, inv_args, inv_kwargs)
                    self.assertEqual(invocation['details']['enc_algo'], 'cryptobox')

    def test_4_autobahn_caller_to_wampbox_callee(self):
        """The echo arrives, and CALL and YIELD travelled encrypted: the RESULT reached Autobahn as
        ciphertext (a router forwards the YIELD's payload as it is), and the router's log shows every
        CALL, INVOCATION, YIELD and RESULT as ciphertext and no payload value. Against an external
        router without an available log, the log check is skipped (after the rest has run)."""
        urls, log = self.router_with_optional_log()
        combos = self.combos(urls)
        uris, data = [], []
        for combo in combos:
            with self.subTest(combo=combo):
                procedure, (args, kwargs) = fresh_uri('proc4'), payload(fresh_marker())
                uris.append(procedure)
                data.append((args, kwargs))
                url = urls[combo.transport]
                callee = self.wampbox_callee(url, combo.wampbox_serializer, ring_of(combo, 'responder'), procedure, 1)
                code, out, err = self.peer(url, combo.peer_serializer, ring_of(combo, 'originator'), 'call', procedure,
                                           '--args', to_peer_json(args), '--kwargs', to_peer_json(kwargs), '--details')
                self.assertEqual((code, len(out)), (0, 1), err)
                result = self.assert_data(out[0], args, kwargs)
                self.assertEqual((result['details'].get('enc_algo'), result['details'].get('enc_serializer')),
                                 ('cryptobox', 'json'), out[0])
                self.assertEqual(callee.finish()[0], 0)
        if log is None:
            self.skipTest('CALL/YIELD not checked in the router log: ' + self.unavailable_log_reason())
        count = len(combos)
        self.assert_router_saw_only_ciphertext(log, uris, data, {'CALL': count, 'INVOCATION': count,
                                                                 'YIELD': count, 'RESULT': count})


class KeylessSubscriberTests(InteropTestCase):
    """Test 5: subscribers without keys get only the ciphertext; the keyed one gets the data."""

    def test_5_keyless_subscribers_see_only_ciphertext(self):
        topic = fresh_uri('keyless')
        publications = [payload(fresh_marker()) for _ in range(2)]
        peer_plain = self.peer_subscriber(ROUTER['ws'], 'json', None, topic, 2)
        wampbox_plain = self.wampbox_subscriber(ROUTER['rs'], 'msgpack', None, topic, 2)
        wampbox_keyed = self.wampbox_subscriber(ROUTER['ws'], 'json', 'responder', topic, 2)
        self.peer_ready(peer_plain)
        # one publication from each tool
        self.wampbox_publish(ROUTER['rs'], 'json', 'originator', topic, *publications[0])
        self.peer_publish(ROUTER['ws'], 'msgpack', 'originator', topic, *publications[1])

        keyed_lines, _ = self.assert_finished(wampbox_keyed, 2)
        for line, (args, kwargs) in zip(keyed_lines, publications):
            self.assert_data(line, args, kwargs)

        markers = [kwargs['marker'] for _, kwargs in publications]
        peer_lines, peer_err = self.assert_finished(peer_plain, 2)
        wampbox_lines, wampbox_err = self.assert_finished(wampbox_plain, 2)
        for output in peer_lines + wampbox_lines + [peer_err, wampbox_err]:
            for marker in markers:
                self.assertNotIn(marker, output)
        # what they got is the bare cryptobox payload (it opens with the responder key) and the enc_* details
        ciphertexts = [json.loads(line)['payload'] for line in peer_lines]
        for line in wampbox_lines:
            event = json.loads(line)
            self.assertEqual((len(event['args']), event['kwargs']), (1, None), line)
            ciphertexts.append(event['args'][0])
            self.assertEqual(event['details']['enc_algo'], 'cryptobox')
        for line in peer_lines:
            self.assertEqual(json.loads(line)['details']['enc_algo'], 'cryptobox')
        for index, ciphertext in enumerate(ciphertexts):
            args, kwargs = publications[index % 2]
            inner = decrypt_split(canonical(ciphertext))
            self.assertEqual((inner['uri'], canonical(inner['args']), canonical(inner['kwargs'])),
                             (topic, canonical(args), canonical(kwargs)))


class PolicyTests(InteropTestCase):
    """Test 7: strict policy and wrong keys: nothing unauthenticated is ever printed as data."""

    def assert_only_events(self, subscriber, expected, rejections):
        """The subscriber printed exactly `expected` (args, kwargs) events and reported `rejections`."""
        lines, err = self.assert_finished(subscriber, len(expected))
        for line, (args, kwargs) in zip(lines, expected):
            self.assert_data(line, args, kwargs)
        rejected = [line for line in err.splitlines() if ' rejected: ' in line]
        self.assertEqual(len(rejected), rejections, err)
        return lines, err

    def test_7a_strict_subscriber_rejects_plaintext_then_gets_the_encrypted_event(self):
        topic = fresh_uri('strict')
        plain, encrypted = payload(fresh_marker()), payload(fresh_marker())
        url = ROUTER['rs']
        subscriber = self.wampbox_subscriber(url, 'json', 'responder', topic, 1)
        self.wampbox_publish(ROUTER['ws'], 'msgpack', None, topic, *plain)
        self.assertIsNotNone(subscriber.err.wait_for(lambda line: ' rejected: ' in line), subscriber.describe())
        self.peer_publish(url, 'json', 'originator', topic, *encrypted)
        lines, err = self.assert_only_events(subscriber, [encrypted], 1)
        self.assertNotIn(plain[1]['marker'], '\n'.join(lines) + err)

    def test_7b_wrong_key_is_rejected(self):
        topic = fresh_uri('wrongkey')
        secret, own = payload(fresh_marker()), payload(fresh_marker())
        url = ROUTER['ws']
        subscriber = self.wampbox_subscriber(url, 'msgpack', 'other', topic, 1)
        # sealed for the split ring's responder: the "other" ring cannot open it (from either tool)
        self.wampbox_publish(url, 'json', 'originator', topic, *secret)
        self.peer_publish(ROUTER['rs'], 'msgpack', 'originator', topic, *secret)
        # then one the subscriber's own key opens: still delivered after the rejections
        self.wampbox_publish(url, 'json', 'other', topic, *own)
        lines, err = self.assert_only_events(subscriber, [own], 2)
        self.assertNotIn(secret[1]['marker'], '\n'.join(lines) + err)

    def test_7c_keyed_caller_never_accepts_an_unencrypted_or_undecryptable_answer(self):
        url = ROUTER['rs']
        args, kwargs = payload(fresh_marker())

        def call(procedure):
            return self.wampbox(url, 'json', 'originator', 'call', procedure, *cli_data(args, kwargs))

        with self.subTest(callee='Autobahn without keys'):
            procedure = fresh_uri('nokeys')
            self.peer_ready(self.peer_callee(url, 'json', None, procedure, 1))
            code, out, err = call(procedure)
            # Autobahn cannot open the INVOCATION and says so with an error
            self.assertEqual((code, out), (2, []), err)
            self.assertIn('"error":"wamp.error.no_payload_codec"', err)
        with self.subTest(callee='Autobahn with the wrong key'):
            procedure = fresh_uri('wrongkey')
            self.peer_ready(self.peer_callee(url, 'msgpack', 'other', procedure, 1))
            code, out, err = call(procedure)
            # its decrypt_error ERROR is sealed with the wrong key too: an encryption failure here
            self.assertEqual((code, out), (5, []), err)
            self.assertIn('wamp.error.encryption.decrypt_error', err)
        with self.subTest(callee='wampbox without keys (echoes the ciphertext in plaintext)'):
            procedure = fresh_uri('plainecho')
            callee = self.wampbox_callee(url, 'msgpack', None, procedure, 1)
            code, out, err = call(procedure)
            self.assertEqual((code, out), (5, []), err)
            self.assertIn('plaintext payload refused', err)
            self.assertEqual(callee.finish()[0], 0)


class RouterViewTests(InteropTestCase):
    """Test 6: the router only ever sees ciphertext."""

    def test_6_router_log_shows_only_ciphertext(self):
        urls, log = self.watched_router()
        data = [payload(fresh_marker()) for _ in range(5)]
        topic, proc_peer, proc_wampbox = fresh_uri('logged'), fresh_uri('logged'), fresh_uri('logged')
        # an external router may have no unix:// listener
        unix = urls.get('unix', urls['rs'])

        peer_sub = self.peer_subscriber(urls['ws'], 'json', 'responder', topic, 2)
        peer_callee = self.peer_callee(unix, 'cbor', 'shared', proc_peer, 2)
        wampbox_sub = self.wampbox_subscriber(urls['rs'], 'msgpack', 'responder', topic, 2)
        wampbox_callee = self.wampbox_callee(urls['ws'], 'json', 'shared', proc_wampbox, 1)
        self.peer_ready(peer_sub)
        self.peer_ready(peer_callee)

        self.wampbox_publish(urls['rs'], 'json', 'originator', topic, *data[0])
        self.peer_publish(urls['ws'], 'msgpack', 'originator', topic, *data[1])
        code, _, err = self.wampbox(urls['ws'], 'msgpack', 'shared', 'call', proc_peer, *cli_data(*data[2]))
        self.assertEqual(code, 0, err)
        failing = dict(data[3][1], fail=ERROR_URI)
        self.assert_wamp_error(self.wampbox(urls['rs'], 'json', 'shared', 'call', proc_peer,
                                            *cli_data(data[3][0], failing)),
                               ERROR_URI, PEER_ERROR_ARGS, PEER_ERROR_KWARGS)
        code, _, err = self.peer(urls['rs'], 'json', 'shared', 'call', proc_wampbox,
                                 '--args', to_peer_json(data[4][0]), '--kwargs', to_peer_json(data[4][1]))
        self.assertEqual(code, 0, err)
        for process, count in ((peer_sub, 2), (wampbox_sub, 2), (peer_callee, 2)):
            self.assert_finished(process, count)
        self.assertEqual(wampbox_callee.finish()[0], 0)

        # 2 publications to 2 subscribers, 3 calls to Autobahn (one failing) and 1 to wampbox
        self.assert_router_saw_only_ciphertext(log, [topic, proc_peer, proc_wampbox], data,
                                               {'PUBLISH': 2, 'EVENT': 4, 'CALL': 3, 'INVOCATION': 3,
                                                'YIELD': 2, 'RESULT': 2, 'ERROR': 2})


class SecureModeTests(InteropTestCase):
    """Test 8: secure mode (x_wampbox_v1, rings made by `wampbox ring`) through the router. Keyless
    peers (Autobahn|Python and wampbox) get only the opaque payload, both the same bytes (the router
    forwarded it unchanged; the keyed subscriber's signature check covers every byte of it); the
    keyed wampbox subscriber gets the data and the authenticated sender; the router's log shows no
    plaintext."""

    def test_8_keyless_peers_see_only_the_opaque_secure_payload(self):
        urls, log = self.router_with_optional_log()
        topic = '{}.{}'.format(SECURE_PREFIX, uuid.uuid4().hex[:12])
        args, kwargs = payload(fresh_marker())
        peer_plain = self.peer_subscriber(urls['ws'], 'msgpack', None, topic, 1)
        wampbox_plain = self.wampbox_subscriber(urls['rs'], 'cbor', None, topic, 1)
        keyed = self.wampbox_subscriber(urls['ws'], 'json', 'secure_subscriber', topic, 1)
        self.peer_ready(peer_plain)
        self.wampbox_publish(urls['rs'], 'msgpack', 'secure_publisher', topic, args, kwargs)

        (line,), _ = self.assert_finished(keyed, 1)
        event = self.assert_data(line, args, kwargs)
        self.assertEqual(event['sender'], {'name': 'sensor', 'public_key': SECURE_IDENTITY['sensor']})
        self.assertEqual(event['details']['enc_algo'], 'x_wampbox_v1')

        (peer_line,), peer_err = self.assert_finished(peer_plain, 1)
        (wampbox_line,), wampbox_err = self.assert_finished(wampbox_plain, 1)
        for output in (peer_line, wampbox_line, peer_err, wampbox_err):
            self.assertNotIn(kwargs['marker'], output)
        peer_event, wampbox_event = json.loads(peer_line), json.loads(wampbox_line)
        details = peer_event['details']
        self.assertEqual((details['enc_algo'], details['enc_serializer']), ('x_wampbox_v1', 'msgpack'))
        self.assertRegex(details['enc_key'], '^[0-9a-f]{16}$')
        self.assertEqual((len(wampbox_event['args']), wampbox_event['kwargs']), (1, None), wampbox_line)
        opaque = canonical(peer_event['payload'])
        self.assertEqual(opaque, canonical(wampbox_event['args'][0]))
        # the documented layout: version 1, kind 1 (event), the key id of enc_key, 164 bytes around the data
        self.assertEqual(opaque[0:2], b'\x01\x01')
        self.assertEqual(opaque[4:12].hex(), details['enc_key'])
        self.assertGreater(len(opaque), 164 + len(kwargs['marker']))
        if log is None:
            self.skipTest(self.unavailable_log_reason())
        self.assert_router_saw_only_ciphertext(log, [topic], [(args, kwargs)], {'PUBLISH': 1, 'EVENT': 3})


# ---------------------------------------------------------------- setup

def write_keyring(directory, name, entries):
    """A key-ring file with mode 0600 (the CLI refuses anything readable by others)."""
    path = os.path.join(directory, name + '.json')
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as stream:
        json.dump(entries, stream)
    return path


def generate_shared_keyring(directory, name):
    """A fresh single-key ring ("" = default key) made by the CLI itself."""
    path = os.path.join(directory, name + '.json')
    done = subprocess.run([WAMPBOX, 'keygen', '--shared', '', '--out', path], capture_output=True, text=True,
                          timeout=WAIT_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError('wampbox keygen failed: ' + done.stderr)
    return path


def split_entry(**keys):
    entry = dict.fromkeys(('originator_priv', 'originator_pub', 'responder_priv', 'responder_pub'))
    entry.update(keys, policy='strict')
    return {PREFIX: entry}


def write_keyrings(directory):
    KEYRINGS['originator'] = write_keyring(directory, 'originator', split_entry(originator_priv=ORIGINATOR_PRIV,
                                                                                responder_pub=RESPONDER_PUB))
    KEYRINGS['responder'] = write_keyring(directory, 'responder', split_entry(responder_priv=RESPONDER_PRIV,
                                                                              originator_pub=ORIGINATOR_PUB))
    KEYRINGS['shared'] = generate_shared_keyring(directory, 'shared')
    KEYRINGS['other'] = generate_shared_keyring(directory, 'other')


def ring_command(*arguments):
    """Runs `wampbox ring ...`; returns what it printed (one JSON object)."""
    done = subprocess.run([WAMPBOX, 'ring'] + list(arguments), capture_output=True, text=True,
                          timeout=WAIT_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError('wampbox ring {} failed: {}'.format(arguments[0], done.stderr))
    return json.loads(done.stdout)


def write_secure_keyrings(directory):
    """Secure-mode rings made by the CLI: the publisher "sensor" and a subscriber that trusts it."""
    publisher = os.path.join(directory, 'secure-publisher.json')
    subscriber = os.path.join(directory, 'secure-subscriber.json')
    SECURE_IDENTITY['sensor'] = ring_command('init', publisher, '--name', 'sensor')['public_key']
    ring_command('init', subscriber, '--name', 'dashboard')
    ring_command('add-key', publisher, SECURE_PREFIX)
    ring_command('add-key', subscriber, SECURE_PREFIX, '--import-from', publisher)
    ring_command('trust', subscriber, SECURE_PREFIX, 'sensor', SECURE_IDENTITY['sensor'], '--role', 'publish')
    KEYRINGS['secure_publisher'] = publisher
    KEYRINGS['secure_subscriber'] = subscriber


def main():
    global WAMPBOX
    if len(sys.argv) < 2:
        sys.exit('usage: test_interop.py PATH/TO/wampbox [unittest options]')
    WAMPBOX = os.path.abspath(sys.argv[1])
    urls = os.environ.get('WAMPBOX_ROUTER_URLS', '').split()
    if not urls:
        print('SKIPPED: WAMPBOX_ROUTER_URLS is empty (run through test/router/with_router)')
        sys.exit(EXIT_SKIPPED)
    for url in urls:
        ROUTER[url.split(':', 1)[0]] = url
    with tempfile.TemporaryDirectory(prefix='wampbox-interop-') as directory:
        write_keyrings(directory)
        write_secure_keyrings(directory)
        program = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == '__main__':
    main()
