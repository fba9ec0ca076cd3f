#!/usr/bin/python3
"""The wampbox CLI's Advanced Profile options against a router (run through test/router/with_router).

Checks: URIs refused before connecting; global options after the command; call --progress printing
each progressive result as it arrives; publish exclusion/eligibility, --retain with subscribe
--get-retained; register --match; register --exec answering plain and encrypted calls (and failing
as documented); an unacknowledged publish whose router goes away reports failure. The other peers
are raw RawSocket clients (test/router/raw_wamp_client.py), so they work against Crossbar.io too.

usage: cli_profile_test.py PATH/TO/wampbox [unittest options]   (WAMPBOX_ROUTER_URLS names the router)
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'router'))

from autobahn.wamp import message  # noqa: E402

from raw_wamp_client import RawWampClient  # noqa: E402

WAMPBOX = None
URLS = os.environ.get('WAMPBOX_ROUTER_URLS', '').split()
TIMEOUT = 30
EXIT_USAGE, EXIT_WAMP_ERROR, EXIT_FAILURE = 1, 2, 5
_counter = iter(range(1, 10 ** 6))


def url_of(scheme):
    return next((u for u in URLS if u.startswith(scheme + '://')), None)


def unique(base):
    return '{}.{}.{}'.format(base, os.getpid(), next(_counter))


def wampbox(*argv, url=None, check=None, **kwargs):
    """Run the CLI to completion; returns the CompletedProcess."""
    done = subprocess.run([WAMPBOX] + list(argv) + ['--url', url or URLS[0]], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


class Background:
    """A long-running CLI command (register), started once its first stderr line says it is ready."""

    def __init__(self, *argv, ready):
        self.process = subprocess.Popen([WAMPBOX] + list(argv) + ['--url', URLS[0]], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        assert line.startswith(ready), line + self.process.stderr.read()

    def stop(self):
        self.process.terminate()
        self.process.communicate(timeout=TIMEOUT)


def raw_client():
    url = url_of('rs') or url_of('unix')
    if url is None:
        raise unittest.SkipTest('the router has no rs:// or unix:// URL for the raw peer')
    client = RawWampClient(url, 'json', timeout=TIMEOUT)
    client.join()
    return client


class UriChecks(unittest.TestCase):
    """Refused before connecting: the URL is unreachable, and the exit code is 1, not 3."""

    NOWHERE = 'rs://127.0.0.1:1'

    def test_bad_uris_are_usage_errors(self):
        cases = [(['publish', 'com..empty'], 'must not be empty'),
                 (['publish', 'com.with space'], 'white space'),
                 (['call', 'com.hash#tag'], "'#'"),
                 (['subscribe', 'com..x'], 'must not be empty'),
                 (['subscribe', 'com..x.', '--match', 'prefix'], 'only the last'),
                 (['register', 'com.Upper', '--echo', '--strict-uris'], 'strict'),
                 (['--strict-uris', 'publish', 'com.Upper'], 'strict')]
        for argv, reason in cases:
            with self.subTest(argv=argv):
                done = wampbox(*argv, url=self.NOWHERE)
                self.assertEqual(done.returncode, EXIT_USAGE, done.stderr)
                self.assertIn('invalid', done.stderr)
                self.assertIn(reason, done.stderr)

    def test_patterns_and_loose_uris_pass_the_check(self):
        # they get as far as connecting (exit 3: nobody listens)
        for argv in (['subscribe', 'com..x', '--match', 'wildcard'], ['register', 'com.x.', '--match', 'prefix',
                                                                        '--echo'],
                     ['publish', 'com.Ünïcode-ok']):
            with self.subTest(argv=argv):
                self.assertEqual(wampbox(*argv, url=self.NOWHERE).returncode, 3)

    def test_register_needs_exactly_one_answer(self):
        self.assertEqual(wampbox('register', 'com.x', url=self.NOWHERE).returncode, EXIT_USAGE)
        self.assertEqual(wampbox('register', 'com.x', '--echo', '--exec', 'cat', url=self.NOWHERE).returncode,
                         EXIT_USAGE)


class GlobalOptions(unittest.TestCase):

    def test_global_options_after_the_command(self):
        done = subprocess.run([WAMPBOX, 'call', 'wamp.session.count', '--serializer', 'cbor', '--url', URLS[0],
                               '--realm', 'realm1', '--timeout', '10'],
                              capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertGreaterEqual(json.loads(done.stdout)['args'][0], 1)


class Progress(unittest.TestCase):

    def test_progressive_results_printed_as_they_arrive(self):
        procedure = unique('com.example.cli.progress')
        callee = raw_client()
        self.addCleanup(callee.close)
        callee.send(message.Register(1, procedure))
        callee.expect(message.Registered)
        caller = subprocess.Popen([WAMPBOX, 'call', procedure, '--progress', '--url', URLS[0]],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            invocation = callee.expect(message.Invocation)
            self.assertTrue(invocation.receive_progress)
            callee.send(message.Yield(invocation.request, args=[1], progress=True))
            # the first line comes before the callee sends anything more
            first = json.loads(caller.stdout.readline())
            self.assertEqual((first['args'], first['details'].get('progress')), ([1], True))
            callee.send(message.Yield(invocation.request, args=[2], progress=True))
            self.assertEqual(json.loads(caller.stdout.readline())['args'], [2])
            callee.send(message.Yield(invocation.request, args=['done']))
            final = json.loads(caller.stdout.readline())
            self.assertEqual(final['args'], ['done'])
            self.assertNotIn('progress', final['details'])
            self.assertEqual(caller.wait(TIMEOUT), 0)
        finally:
            caller.kill()
            caller.wait()
            caller.stdout.close()
            caller.stderr.close()


class PublishOptions(unittest.TestCase):

    def _subscribers(self, topic, count):
        clients = []
        for _ in range(count):
            client = raw_client()
            self.addCleanup(client.close)
            client.send(message.Subscribe(1, topic))
            client.expect(message.Subscribed)
            clients.append(client)
        return clients

    def test_exclusion_and_eligibility(self):
        topic = unique('com.example.cli.lists')
        b, c = self._subscribers(topic, 2)
        sessions = {'b': b.session_id, 'c': c.session_id}
        authids = {'b': b.welcome.authid, 'c': c.welcome.authid}
        cases = [(['--exclude', str(sessions['b'])], 'c'),
                 (['--eligible', str(sessions['b'])], 'b'),
                 (['--exclude-authid', authids['c']], 'b'),
                 (['--eligible-authid', authids['c']], 'c'),
                 (['--eligible', str(sessions['b']), '--eligible', str(sessions['c'])], 'bc'),
                 (['--exclude-authrole', b.welcome.authrole], '')]
        for n, (options, receivers) in enumerate(cases):
            # the ARG after a repeatable option is still an ARG
            wampbox('publish', topic, '--acknowledge', *options, str(n), check=0)
        wampbox('publish', topic, '"end"', check=0)
        for name, client in (('b', b), ('c', c)):
            got = []
            while True:
                event = client.expect(message.Event)
                if event.args == ['end']:
                    break
                got.append(event.args[0])
            self.assertEqual(got, [n for n, (_, receivers) in enumerate(cases) if name in receivers], name)

    def test_retain_and_get_retained(self):
        topic = unique('com.example.cli.retained')
        wampbox('publish', topic, '"kept"', '--retain', '--acknowledge', check=0)
        done = wampbox('subscribe', topic, '--get-retained', '--count', '1', check=0)
        event = json.loads(done.stdout)
        self.assertEqual((event['args'], event['details'].get('retained')), (['kept'], True))

    def test_unacknowledged_publish_reaches_the_router(self):
        topic = unique('com.example.cli.plain')
        (subscriber,) = self._subscribers(topic, 1)
        wampbox('publish', topic, '1', check=0)
        self.assertEqual(subscriber.expect(message.Event).args, [1])


class Exec(unittest.TestCase):
    """register --exec: the command answers calls; encrypted calls stay encrypted end to end."""

    ADD = ('/usr/bin/python3 -c \'import json,sys; d=json.load(sys.stdin); '
           'print(json.dumps({"args": [sum(d["args"])], "kwargs": {"procedure": d["procedure"], **d["kwargs"]}}))\'')

    def _callee(self, procedure, command, *options):
        callee = Background('register', procedure, '--exec', command, *options, ready='registered')
        self.addCleanup(callee.stop)
        return callee

    def test_plain_and_pattern_calls(self):
        base = unique('com.example.cli.exec')
        self._callee(base + '.', self.ADD, '--match', 'prefix')
        done = wampbox('call', base + '.add', '1', '2', '--kw', 'k=true', check=0)
        result = json.loads(done.stdout)
        self.assertEqual((result['args'], result['kwargs']), ([3], {'procedure': base + '.add', 'k': True}))

    def test_output_forms_and_failures(self):
        base = unique('com.example.cli.forms')
        for suffix, command in (('array', 'echo "[1, 2]"'), ('value', 'echo \'"one"\''), ('empty', 'true'),
                                ('fail', 'echo oops >&2; exit 3'), ('text', 'echo not json')):
            self._callee(base + '.' + suffix, command, '--count', '1')
        results = {suffix: json.loads(wampbox('call', base + '.' + suffix, check=0).stdout)['args']
                   for suffix in ('array', 'value', 'empty')}
        self.assertEqual(results, {'array': [1, 2], 'value': ['one'], 'empty': None})
        failed = wampbox('call', base + '.fail', check=EXIT_WAMP_ERROR)
        error = json.loads(failed.stderr.split('WAMP error ', 1)[1])
        self.assertEqual(error['error'], 'wampbox.error.exec_failed')
        self.assertEqual(error['kwargs'], {'exit_status': 3, 'stderr': 'oops\n'})
        self.assertIn('oops', error['args'][0])
        text = wampbox('call', base + '.text', check=EXIT_WAMP_ERROR)
        self.assertIn('not JSON', text.stderr)

    def test_interrupted_call_stops_the_command(self):
        """A call canceled by the caller's --timeout (CANCEL, so INTERRUPT at the callee) sends the
        command SIGTERM; the callee goes on answering."""
        procedure = unique('com.example.cli.slow')
        with tempfile.TemporaryDirectory() as tmp:
            pidfile = os.path.join(tmp, 'pid')
            self._callee(procedure, 'if [ -e {0} ]; then echo 7; else echo $$ > {0}; exec sleep 60; fi'.format(pidfile))
            wampbox('call', procedure, '--timeout', '1', check=EXIT_FAILURE)
            with open(pidfile) as f:
                pid = int(f.read())
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                self.fail('the command of the interrupted call is still running')
            self.assertEqual(json.loads(wampbox('call', procedure, check=0).stdout)['args'], [7])

    def test_encrypted_call_answered_by_a_command(self):
        base = unique('com.example.cli.sealed')
        with tempfile.TemporaryDirectory() as tmp:
            keyring = os.path.join(tmp, 'ring.json')
            subprocess.run([WAMPBOX, 'keygen', '--shared', base, '--out', keyring], check=True, timeout=TIMEOUT)
            # the command sees the decrypted call; the router only ciphertext
            self._callee(base + '.add', self.ADD, '--keyring', keyring, '--count', '2')
            done = wampbox('call', base + '.add', '20', '22', '--keyring', keyring, check=0)
            result = json.loads(done.stdout)
            self.assertEqual(result['args'], [42])
            self.assertEqual(result['details'].get('enc_algo'), 'cryptobox')
            # the key ring's policy is strict: the callee refuses a plaintext call
            plain = wampbox('call', base + '.add', '1', '2', check=EXIT_WAMP_ERROR)
            self.assertIn('wamp.error.encryption.plaintext_refused', plain.stderr)


class RouterGoneBeforeGoodbye(unittest.TestCase):
    """An unacknowledged publish whose router closes the connection right after it does not report success."""

    def test_publish_then_router_closes(self):
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        self.addCleanup(listener.close)

        def serve():
            conn, _ = listener.accept()
            with conn:
                handshake = conn.recv(4)
                conn.sendall(bytes([0x7F, 0xF0 | (handshake[1] & 0x0F), 0, 0]))
                welcome = json.dumps([2, 4242, {'roles': {'broker': {}, 'dealer': {}}}]).encode()
                frames = 0
                buffer = b''
                while frames < 2:  # HELLO, then PUBLISH
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                    while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[1:4], 'big'):
                        buffer = buffer[4 + int.from_bytes(buffer[1:4], 'big'):]
                        frames += 1
                        if frames == 1:
                            conn.sendall(bytes([0]) + len(welcome).to_bytes(3, 'big') + welcome)

        threading.Thread(target=serve, daemon=True).start()
        done = wampbox('publish', 'com.example.t', '1', '--serializer', 'json',
                       url='rs://127.0.0.1:{}'.format(listener.getsockname()[1]))
        self.assertEqual(done.returncode, EXIT_FAILURE, done.stderr)
        self.assertIn('before the publication was confirmed', done.stderr)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    WAMPBOX = sys.argv.pop(1)
    if not URLS:
        print('SKIPPED: no router: WAMPBOX_ROUTER_URLS is empty (run through test/router/with_router)')
        sys.exit(77)
    unittest.main(verbosity=2)
