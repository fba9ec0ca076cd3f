"""Self-test of the wampbox test router (run by meson as 'router-selftest').

Starts test/router/run once, then checks it over every transport and serializer
with Autobahn|Python peers (test/interop/autobahn_peer.py), including encrypted
traffic with cryptobox key rings, and at the wire level with a raw RawSocket
client: exact EVENT bytes for the spec vector, broker/dealer rules, cancel
modes, sessions leaving, protocol violations, and where Crossbar.io differs from a
bare WAMP router: callee disclosure in RESULT, reserved "wamp." URIs, WebSocket on
any path, the session meta procedures. Also checks `run` and `with_router`.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from autobahn.wamp import message  # noqa: E402
from nacl.encoding import Base64Encoder  # noqa: E402
from nacl.public import Box, PrivateKey, PublicKey  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from raw_wamp_client import CLIENT_ROLES, RawWampClient  # noqa: E402

PYTHON = '/usr/bin/python3'
RUN = os.path.join(HERE, 'run')
WITH_ROUTER = os.path.join(HERE, 'with_router')
PEER = os.path.join(HERE, '..', 'interop', 'autobahn_peer.py')
# every wait in this file is bounded by this (seconds): generous, since an Autobahn peer alone takes
# seconds to start on a loaded machine and the matrix test starts 18 of them at once; only a hang waits it out
TIMEOUT = 60
MAX_ID = 2 ** 53

# fixed test keys of payload-encryption.md section 1.5
ORIGINATOR_PRIV = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA='
ORIGINATOR_PUB = 'B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw='
RESPONDER_PRIV = 'ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A='
RESPONDER_PUB = 'WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns='
# the spec vector's PUBLISH as Autobahn writes it in JSON, and its payload
VECTOR_PAYLOAD_B64 = ('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXqjFnpUJOE6BTOs5sPhfZU2nXriszH0fwmp0sLZo6cNAFZnEoF9zfXI24'
                      'Z7rDJmowC3ZsAghNMCaRt1KnZSRZySwaS2ENlnztxURmGNADlSm6uYUGYaPipWnLE8GH')
VECTOR_PUBLISH_JSON = ('[16,1,{"enc_algo":"cryptobox","enc_serializer":"json"},"com.example.topic","\\u0000'
                       + VECTOR_PAYLOAD_B64 + '"]').encode('ascii')

ROUTER = {}  # 'ws', 'rs', 'unix' -> URL of the router started for this module
_router_process = None


def setUpModule():
    global _router_process
    _router_process = subprocess.Popen([RUN], stdout=subprocess.PIPE, text=True)
    lines = _read_lines(_router_process.stdout, 3)
    for line in lines:
        ROUTER[line.split(':', 1)[0]] = line


def tearDownModule():
    _router_process.send_signal(signal.SIGTERM)
    _router_process.wait(TIMEOUT)
    _router_process.stdout.close()


def _read_lines(stream, count, timeout=TIMEOUT):
    """Read `count` lines from a pipe, failing after `timeout` seconds instead of hanging."""
    lines = queue.Queue()

    def reader():
        for _ in range(count):
            lines.put(stream.readline().rstrip('\n'))

    threading.Thread(target=reader, daemon=True).start()
    return [lines.get(timeout=timeout) for _ in range(count)]


# ---------------------------------------------------------------- Autobahn peers

def peer_command(url, serializer, mode_args, keyring=None):
    command = [PYTHON, PEER, '--url', url, '--serializer', serializer, '--timeout', str(TIMEOUT)]
    if keyring:
        command += ['--keyring', keyring]
    return command + list(mode_args)


def run_peer(url, serializer, *mode_args, keyring=None):
    """Run a short-lived peer (publish/call); returns (exit code, stdout lines)."""
    done = subprocess.run(peer_command(url, serializer, mode_args, keyring), capture_output=True, text=True,
                          timeout=TIMEOUT + 10)
    return done.returncode, done.stdout.splitlines(), done.stderr


class BackgroundPeer:
    """A long-lived peer (subscribe/callee) whose stdout lines are read with timeouts."""

    def __init__(self, url, serializer, *mode_args, keyring=None):
        self.process = subprocess.Popen(peer_command(url, serializer, mode_args, keyring),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._lines.put(line.rstrip('\n'))
        self._lines.put(None)

    def line(self):
        line = self._lines.get(timeout=TIMEOUT)
        if line is None:
            raise AssertionError('peer ended early: ' + self.process.stderr.read())
        return line

    def wait_ready(self):
        assert self.line() == 'ready'

    def json_line(self):
        return json.loads(self.line())

    def finish(self):
        """Wait for the peer to exit; returns its exit code."""
        try:
            return self.process.wait(TIMEOUT)
        finally:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            self.process.stderr.close()


ARGS = [1, 'two', {'$binary': 'AAEC/w=='}, {'nested': [True, None, 3.5]}]
KWARGS = {'k': 'v', 'bin': {'$binary': '3q2+7w=='}}


class AutobahnPeerTests(unittest.TestCase):
    """Pub/sub and RPC between Autobahn|Python peers through the router."""

    def test_every_transport_and_serializer(self):
        """Every transport x serializer subscribes; one publisher per transport reaches all of them;
        RPC pairs mix transports and serializers. Peers run concurrently: each takes ~1 s to start."""
        data = ['--args', json.dumps(ARGS), '--kwargs', json.dumps(KWARGS)]
        topic = 'com.test.matrix.topic'
        senders = [('ws', 'cbor'), ('rs', 'json'), ('unix', 'msgpack')]
        subscribers = {(t, s): BackgroundPeer(ROUTER[t], s, 'subscribe', topic, '--count', str(len(senders)))
                       for t in ('ws', 'rs', 'unix') for s in ('json', 'msgpack', 'cbor')}
        rpc_pairs = [(('ws', 'json'), ('rs', 'cbor')), (('rs', 'msgpack'), ('unix', 'json')),
                     (('unix', 'cbor'), ('ws', 'msgpack'))]
        callees = [BackgroundPeer(ROUTER[t], s, 'callee', 'com.test.matrix.proc{}'.format(i), '--count', '1')
                   for i, ((t, s), _) in enumerate(rpc_pairs)]
        for peer in list(subscribers.values()) + callees:
            peer.wait_ready()
        publishers = [BackgroundPeer(ROUTER[t], s, 'publish', topic, *data) for t, s in senders]
        callers = [BackgroundPeer(ROUTER[t], s, 'call', 'com.test.matrix.proc{}'.format(i), *data)
                   for i, (_, (t, s)) in enumerate(rpc_pairs)]
        for combo, subscriber in subscribers.items():
            with self.subTest(subscriber=combo):
                for _ in senders:
                    event = subscriber.json_line()
                    self.assertEqual((event['args'], event['kwargs'], event['details']['topic']), (ARGS, KWARGS, topic))
                self.assertEqual(subscriber.finish(), 0)
        for (callee_combo, caller_combo), callee, caller in zip(rpc_pairs, callees, callers):
            with self.subTest(callee=callee_combo, caller=caller_combo):
                self.assertEqual(caller.json_line(), {'args': ARGS, 'kwargs': KWARGS})
                self.assertEqual((callee.finish(), caller.finish()), (0, 0))
        self.assertEqual([publisher.finish() for publisher in publishers], [0, 0, 0])

    def test_pattern_subscriptions_deliver_the_concrete_topic(self):
        for match, pattern, topic in (('prefix', 'com.test.prefix.', 'com.test.prefix.a.b'),
                                      ('wildcard', 'com.test..wild', 'com.test.any.wild')):
            with self.subTest(match=match):
                subscriber = BackgroundPeer(ROUTER['ws'], 'json', 'subscribe', pattern, '--match', match, '--count', '1')
                subscriber.wait_ready()
                self.assertEqual(run_peer(ROUTER['rs'], 'cbor', 'publish', topic, '--args', '[7]')[0], 0)
                event = subscriber.json_line()
                self.assertEqual((event['args'], event['details']['topic']), ([7], topic))
                self.assertEqual(subscriber.finish(), 0)

    def test_call_errors(self):
        callee = BackgroundPeer(ROUTER['unix'], 'msgpack', 'callee', 'com.test.errors.proc', '--count', '1')
        callee.wait_ready()
        code, lines, _ = run_peer(ROUTER['ws'], 'json', 'call', 'com.test.errors.proc',
                                  '--args', '[1]', '--kwargs', '{"fail": "com.test.error.bad"}')
        self.assertEqual((code, json.loads(lines[0])),
                         (2, {'error': 'com.test.error.bad', 'args': ['failed on request'], 'kwargs': {'code': 7}}))
        self.assertEqual(callee.finish(), 0)
        code, lines, _ = run_peer(ROUTER['rs'], 'cbor', 'call', 'com.test.errors.nobody')
        self.assertEqual(code, 2)
        self.assertEqual(json.loads(lines[0])['error'], 'wamp.error.no_such_procedure')

    def test_websocket_on_any_path(self):
        """Like a Crossbar.io "websocket" transport: the upgrade succeeds whatever the path."""
        base = ROUTER['ws'][:-len('/ws')]
        for path in ('/ws', '/', '/other/deeper'):
            with self.subTest(path=path):
                code, lines, stderr = run_peer(base + path, 'json', 'call', 'wamp.session.count')
                self.assertEqual(code, 0, stderr)
                count = json.loads(lines[0])['args'][0]
                self.assertTrue(isinstance(count, int) and count >= 1, lines)


class EncryptedPeerTests(unittest.TestCase):
    """Cryptobox-encrypted traffic between Autobahn|Python KeyRing peers: the router forwards it like Crossbar.io."""

    PREFIX = 'com.test.enc.'

    @classmethod
    def setUpClass(cls):
        cls._tempdir = tempfile.TemporaryDirectory()
        cls.originator_keys = cls._write_keyring('originator.json', originator_priv=ORIGINATOR_PRIV,
                                                 responder_pub=RESPONDER_PUB)
        cls.responder_keys = cls._write_keyring('responder.json', responder_priv=RESPONDER_PRIV,
                                                originator_pub=ORIGINATOR_PUB)

    @classmethod
    def tearDownClass(cls):
        cls._tempdir.cleanup()

    @classmethod
    def _write_keyring(cls, name, **keys):
        path = os.path.join(cls._tempdir.name, name)
        entry = {'originator_priv': None, 'originator_pub': None, 'responder_priv': None, 'responder_pub': None,
                 'policy': 'strict'}
        entry.update(keys)
        with open(path, 'w') as stream:
            json.dump({cls.PREFIX: entry}, stream)
        return path

    def test_encrypted_pubsub(self):
        topic = self.PREFIX + 'topic'
        keyed = BackgroundPeer(ROUTER['ws'], 'json', 'subscribe', topic, '--count', '1', keyring=self.responder_keys)
        plain = BackgroundPeer(ROUTER['rs'], 'msgpack', 'subscribe', topic, '--count', '1')
        keyed.wait_ready()
        plain.wait_ready()
        code, _, _ = run_peer(ROUTER['unix'], 'cbor', 'publish', topic, '--args', json.dumps(ARGS),
                              '--kwargs', json.dumps(KWARGS), keyring=self.originator_keys)
        self.assertEqual(code, 0)

        event = keyed.json_line()
        self.assertEqual((event['args'], event['kwargs'], event['details']['enc_algo']), (ARGS, KWARGS, 'cryptobox'))

        # the peer without keys sees what the router forwarded: the bare ciphertext and the enc_* details
        opaque = plain.json_line()
        self.assertEqual(opaque['details']['enc_algo'], 'cryptobox')
        self.assertEqual(opaque['details']['enc_serializer'], 'json')
        self.assertNotIn('enc_key', opaque['details'])
        payload = Box(PrivateKey(RESPONDER_PRIV, encoder=Base64Encoder),
                      PublicKey(ORIGINATOR_PUB, encoder=Base64Encoder)).decrypt(
            Base64Encoder.decode(opaque['payload']['$binary']))
        inner = json.loads(payload)
        self.assertEqual(inner['uri'], topic)
        self.assertEqual(inner['kwargs']['k'], 'v')
        self.assertEqual(keyed.finish(), 0)
        self.assertEqual(plain.finish(), 0)

    def test_encrypted_rpc_and_error(self):
        procedure = self.PREFIX + 'proc'
        callee = BackgroundPeer(ROUTER['unix'], 'msgpack', 'callee', procedure, '--count', '2',
                                keyring=self.responder_keys)
        callee.wait_ready()
        code, lines, _ = run_peer(ROUTER['ws'], 'cbor', 'call', procedure, '--args', json.dumps(ARGS),
                                  '--kwargs', json.dumps(KWARGS), '--details', keyring=self.originator_keys)
        result = json.loads(lines[0])
        self.assertEqual((code, result['args'], result['kwargs']), (0, ARGS, KWARGS))
        # what Autobahn got on the wire: the ciphertext, and the callee disclosed as Crossbar.io does
        self.assertEqual({k: result['details'][k] for k in ('enc_algo', 'enc_serializer', 'callee_authrole')},
                         {'enc_algo': 'cryptobox', 'enc_serializer': 'json', 'callee_authrole': 'anonymous'})
        self.assertEqual(callee.json_line()['details']['enc_algo'], 'cryptobox')

        error_uri = self.PREFIX + 'error.bad'
        code, lines, _ = run_peer(ROUTER['rs'], 'json', 'call', procedure, '--kwargs',
                                  json.dumps({'fail': error_uri}), keyring=self.originator_keys)
        self.assertEqual((code, json.loads(lines[0])),
                         (2, {'error': error_uri, 'args': ['failed on request'], 'kwargs': {'code': 7}}))
        self.assertEqual(callee.json_line()['details']['enc_algo'], 'cryptobox')
        self.assertEqual(callee.finish(), 0)


# ---------------------------------------------------------------- wire level

ENC = dict(enc_algo='cryptobox', enc_serializer='json')


def joined(transport='rs', serializer='json'):
    client = RawWampClient(ROUTER[transport], serializer, timeout=TIMEOUT)
    client.join()
    return client


def request_ids():
    """Fresh request ids for one test (clients pick them; any unique positive number will do)."""
    return iter(range(1, 1000))


class SessionTests(unittest.TestCase):

    def test_welcome(self):
        with RawWampClient(ROUTER['unix'], 'cbor') as client:
            welcome = client.join()
        self.assertTrue(1 <= welcome.session <= MAX_ID)
        self.assertEqual((welcome.realm, welcome.authrole, welcome.authmethod), ('realm1', 'anonymous', 'anonymous'))
        broker, dealer = welcome.roles['broker'], welcome.roles['dealer']
        for features in (broker, dealer):
            self.assertTrue(features.payload_transparency and features.payload_encryption_cryptobox)
        self.assertTrue(broker.pattern_based_subscription and broker.publisher_exclusion)
        self.assertTrue(dealer.call_canceling and dealer.progressive_call_results)

    def test_unknown_realm_is_aborted(self):
        with RawWampClient(ROUTER['rs']) as client:
            client.send(message.Hello('realm2', CLIENT_ROLES))
            self.assertEqual(client.expect(message.Abort).reason, 'wamp.error.no_such_realm')

    def test_message_before_hello_is_a_protocol_violation(self):
        with RawWampClient(ROUTER['rs']) as client:
            client.send(message.Publish(1, 'com.test.x', args=[1]))
            self.assertEqual(client.expect(message.Abort).reason, 'wamp.error.protocol_violation')
            client.expect_closed()

    def test_goodbye_then_new_session_on_same_transport(self):
        with joined() as client:
            first = client.session_id
            client.send(message.Goodbye())
            self.assertEqual(client.expect(message.Goodbye).reason, 'wamp.close.goodbye_and_out')
            client.join()
            self.assertNotEqual(client.session_id, first)

    def test_malformed_messages_close_the_connection(self):
        for bad in ([16, 'not-an-id', {}, 'com.test.x'],
                    [16, 1, {'enc_algo': 'rot13', 'enc_serializer': 'json'}, 'com.test.x', b'\x00']):
            with self.subTest(message=bad), joined() as client:
                client.send_raw(bad)
                client.expect_closed()


class BrokerTests(unittest.TestCase):

    def test_spec_vector_event_bytes_exactly_as_crossbar(self):
        with joined() as exact, joined('unix', 'msgpack') as prefix, joined() as publisher:
            exact.send(message.Subscribe(1, 'com.example.topic'))
            prefix.send(message.Subscribe(1, 'com.example.', match='prefix'))
            exact.expect(message.Subscribed)
            prefix.expect(message.Subscribed)
            publisher.send_bytes(VECTOR_PUBLISH_JSON)

            received = exact.recv_bytes()
            event = json.loads(received)
            expected = ('[36,{},{},{{"enc_algo":"cryptobox","enc_serializer":"json"}},"\\u0000{}"]'
                        .format(event[1], event[2], VECTOR_PAYLOAD_B64)).encode('ascii')
            self.assertEqual(received, expected)

            raw = prefix.recv_raw()
            self.assertEqual(raw[3], {'topic': 'com.example.topic', 'enc_algo': 'cryptobox', 'enc_serializer': 'json'})
            self.assertEqual(raw[4], Base64Encoder.decode(VECTOR_PAYLOAD_B64))
            self.assertEqual(len(raw), 5)

    def test_shared_subscription_and_unsubscribe(self):
        with joined() as a, joined('unix') as b:
            a.send(message.Subscribe(1, 'com.test.shared'))
            b.send(message.Subscribe(1, 'com.test.shared'))
            b.send(message.Subscribe(2, 'com.test.shared', match='prefix'))
            shared = a.expect(message.Subscribed).subscription
            self.assertEqual(b.expect(message.Subscribed).subscription, shared)
            self.assertNotEqual(b.expect(message.Subscribed).subscription, shared)
            a.send(message.Unsubscribe(3, shared + 1 if shared < MAX_ID else 1))
            self.assertEqual(a.expect(message.Error).error, 'wamp.error.no_such_subscription')
            a.send(message.Unsubscribe(4, shared))
            a.expect(message.Unsubscribed)
            # b still holds the subscription
            a.send(message.Publish(5, 'com.test.shared', args=['still'], acknowledge=True))
            self.assertEqual(b.expect(message.Event).args, ['still'])

    def test_publisher_exclusion_and_black_white_lists(self):
        with joined() as publisher, joined() as b, joined() as c:
            for client in (publisher, b, c):
                client.send(message.Subscribe(1, 'com.test.lists'))
                client.expect(message.Subscribed)

            def publish(request, **options):
                publisher.send(message.Publish(request, 'com.test.lists', args=[request], acknowledge=True, **options))

            publish(1)  # publisher excluded by default
            publication = publisher.expect(message.Published).publication
            publish(2, exclude_me=False)
            self.assertEqual(publisher.expect(message.Event).args, [2])
            publisher.expect(message.Published)
            publish(3, eligible=[b.session_id])
            publisher.expect(message.Published)
            publish(4, exclude=[b.session_id])
            publisher.expect(message.Published)
            self.assertEqual([b.expect(message.Event).args[0] for _ in range(3)], [1, 2, 3])
            self.assertEqual([c.expect(message.Event).args[0] for _ in range(3)], [1, 2, 4])
            self.assertTrue(1 <= publication <= MAX_ID)

    def test_subscribe_refuses_empty_components_the_policy_does_not_allow(self):
        """As Crossbar.io: ERROR wamp.error.invalid_uri for an empty component in an exact topic or before
        the last one of a prefix; wildcard and a trailing-empty prefix are fine."""
        with joined() as client:
            cases = ((None, 'com..empty', False), ('prefix', 'com..empty.', False), ('prefix', 'com.', True),
                     ('wildcard', 'com..empty', True), (None, 'com.full', True))
            for request, (match, topic, accepted) in enumerate(cases, start=1):
                with self.subTest(match=match, topic=topic):
                    client.send(message.Subscribe(request, topic, match=match))
                    if accepted:
                        self.assertEqual(client.expect(message.Subscribed).request, request)
                    else:
                        error = client.expect(message.Error)
                        self.assertEqual((error.request_type, error.request, error.error),
                                         (message.Subscribe.MESSAGE_TYPE, request, 'wamp.error.invalid_uri'))

    def test_publisher_disclosed_only_on_request(self):
        with joined() as publisher, joined() as subscriber:
            subscriber.send(message.Subscribe(1, 'com.test.disclose'))
            subscriber.expect(message.Subscribed)
            publisher.send_raw([16, 1, {'disclose_me': True}, 'com.test.disclose', [1]])
            publisher.send_raw([16, 2, {}, 'com.test.disclose', [2]])
            disclosed = subscriber.expect(message.Event)
            self.assertEqual((disclosed.publisher, disclosed.publisher_authrole), (publisher.session_id, 'anonymous'))
            self.assertIsNone(subscriber.expect(message.Event).publisher)


class DealerTests(unittest.TestCase):

    def _register(self, callee, procedure, match=None, request=1):
        callee.send(message.Register(request, procedure, match=match))
        return callee.expect(message.Registered).registration

    def test_registration_rules(self):
        with joined() as callee, joined() as other:
            registration = self._register(callee, 'com.test.reg')
            other.send(message.Register(1, 'com.test.reg'))
            self.assertEqual(other.expect(message.Error).error, 'wamp.error.procedure_already_exists')
            other.send(message.Unregister(2, registration))
            self.assertEqual(other.expect(message.Error).error, 'wamp.error.no_such_registration')
            callee.send(message.Unregister(3, registration))
            callee.expect(message.Unregistered)
            other.send(message.Call(4, 'com.test.reg'))
            self.assertEqual(other.expect(message.Error).error, 'wamp.error.no_such_procedure')

    def test_routing_details_and_progress(self):
        with joined() as callee, joined('unix', 'cbor') as caller:
            exact = self._register(callee, 'com.test.pat.exact', request=1)
            prefix = self._register(callee, 'com.test.pat.', match='prefix', request=2)
            self._register(callee, 'com.test..wild', match='wildcard', request=3)

            caller.send(message.Call(1, 'com.test.pat.exact', args=[1]))
            invocation = callee.expect(message.Invocation)
            self.assertEqual((invocation.registration, invocation.procedure), (exact, None))
            callee.send(message.Yield(invocation.request, args=['done']))
            self.assertEqual(caller.expect(message.Result).args, ['done'])

            caller.send_raw([48, 2, {'receive_progress': True, 'timeout': 1234, 'disclose_me': True},
                             'com.test.pat.x.y', [2]])
            invocation = callee.expect(message.Invocation)
            self.assertEqual((invocation.registration, invocation.procedure), (prefix, 'com.test.pat.x.y'))
            self.assertEqual((invocation.receive_progress, invocation.timeout), (True, 1234))
            self.assertEqual(invocation.caller, caller.session_id)
            callee.send(message.Yield(invocation.request, args=['partial'], progress=True))
            callee.send(message.Yield(invocation.request, args=['final']))
            partial, final = caller.expect(message.Result), caller.expect(message.Result)
            self.assertEqual((partial.args, partial.progress, final.args, final.progress),
                             (['partial'], True, ['final'], None))

            caller.send(message.Call(3, 'com.test.any.wild'))
            invocation = callee.expect(message.Invocation)
            self.assertEqual((invocation.procedure, invocation.caller), ('com.test.any.wild', None))

    def test_result_discloses_the_callee_error_does_not(self):
        """Crossbar.io's dealer puts callee, callee_authid and callee_authrole in every RESULT
        (progressive ones too, whatever the disclose settings), and none of them in a callee's ERROR."""
        with joined() as callee, joined('unix', 'msgpack') as caller:
            callee_authid = callee.welcome.authid
            self._register(callee, 'com.test.callee.disclosed')
            caller.send_raw([48, 1, {'receive_progress': True}, 'com.test.callee.disclosed', [1]])
            invocation = callee.expect(message.Invocation)
            callee.send(message.Yield(invocation.request, args=['partial'], progress=True))
            callee.send(message.Yield(invocation.request, payload=b'\x01' * 48, **ENC))
            for progress in (True, None):
                result = caller.expect(message.Result)
                self.assertEqual((result.progress, result.callee, result.callee_authid, result.callee_authrole),
                                 (progress, callee.session_id, callee_authid, 'anonymous'))

            caller.send(message.Call(2, 'com.test.callee.disclosed'))
            invocation = callee.expect(message.Invocation)
            callee.send(message.Error(message.Invocation.MESSAGE_TYPE, invocation.request, 'com.test.error.x'))
            error = caller.expect(message.Error)
            self.assertEqual((error.error, error.callee, error.callee_authid, error.callee_authrole),
                             ('com.test.error.x', None, None, None))

    def test_reserved_uris_refused_for_publish_and_register(self):
        """As Crossbar.io: REGISTER of a "wamp." procedure -> ERROR wamp.error.invalid_uri; PUBLISH to a
        "wamp." topic is dropped, with ERROR wamp.error.invalid_uri only when acknowledged; SUBSCRIBE to
        a "wamp." topic is allowed (that is how clients get Crossbar.io's meta events)."""
        with joined() as client, joined() as subscriber:
            subscriber.send(message.Subscribe(1, 'wamp.test.reserved'))
            subscriber.expect(message.Subscribed)
            for request, (procedure, match) in enumerate((('wamp.test.reserved', None),
                                                          ('wamp.session.count', None),
                                                          ('wamp.', 'prefix')), start=1):
                with self.subTest(register=procedure, match=match):
                    client.send(message.Register(request, procedure, match=match))
                    error = client.expect(message.Error)
                    self.assertEqual((error.request_type, error.request, error.error),
                                     (message.Register.MESSAGE_TYPE, request, 'wamp.error.invalid_uri'))

            client.send(message.Publish(10, 'wamp.test.reserved', args=['acknowledged'], acknowledge=True))
            error = client.expect(message.Error)
            self.assertEqual((error.request_type, error.request, error.error),
                             (message.Publish.MESSAGE_TYPE, 10, 'wamp.error.invalid_uri'))
            client.send(message.Publish(11, 'wamp.test.reserved', args=['unacknowledged']))
            self._assert_nothing_pending(client)
            self._assert_nothing_pending(subscriber)
            # a URI merely starting with "wamp" is an ordinary one (positive control for the checks above)
            self._register(client, 'wampx.test.ordinary', request=12)

    def test_transparent_payload_forwarded_bare(self):
        ciphertext = os.urandom(80)
        with joined() as callee, joined('unix', 'msgpack') as caller:
            self._register(callee, 'com.test.bare')
            caller.send(message.Call(1, 'com.test.bare', payload=ciphertext, **ENC))
            invocation = callee.expect(message.Invocation)
            self.assertEqual((invocation.payload, invocation.enc_algo, invocation.enc_serializer, invocation.args),
                             (ciphertext, 'cryptobox', 'json', None))
            callee.send(message.Yield(invocation.request, payload=ciphertext[::-1], **ENC))
            result = caller.expect(message.Result)
            self.assertEqual((result.payload, result.enc_algo, result.enc_serializer), (ciphertext[::-1], 'cryptobox', 'json'))

            caller.send(message.Call(2, 'com.test.bare', payload=ciphertext, **ENC))
            invocation = callee.expect(message.Invocation)
            callee.send(message.Error(message.Invocation.MESSAGE_TYPE, invocation.request, 'com.test.error.x',
                                      payload=ciphertext[:40], **ENC))
            error = caller.expect(message.Error)
            self.assertEqual((error.error, error.payload, error.enc_algo), ('com.test.error.x', ciphertext[:40], 'cryptobox'))

    def _pending_call(self, callee, caller, procedure):
        self._register(callee, procedure)
        caller.send(message.Call(1, procedure))
        return callee.expect(message.Invocation)

    @staticmethod
    def _assert_nothing_pending(client):
        """The next message is the answer to a fresh request: nothing else was queued for the client."""
        client.send(message.Subscribe(999, 'com.test.sync'))
        client.expect(message.Subscribed)

    def test_cancel_skip(self):
        with joined() as callee, joined() as caller:
            invocation = self._pending_call(callee, caller, 'com.test.cancel.skip')
            caller.send(message.Cancel(1, mode='skip'))
            self.assertEqual(caller.expect(message.Error).error, 'wamp.error.canceled')
            self._assert_nothing_pending(callee)
            callee.send(message.Yield(invocation.request, args=['late']))
            self._assert_nothing_pending(caller)
            self._assert_nothing_pending(callee)

    def test_cancel_killnowait(self):
        with joined() as callee, joined() as caller:
            invocation = self._pending_call(callee, caller, 'com.test.cancel.killnowait')
            caller.send(message.Cancel(1, mode='killnowait'))
            self.assertEqual(caller.expect(message.Error).error, 'wamp.error.canceled')
            interrupt = callee.expect(message.Interrupt)
            self.assertEqual((interrupt.request, interrupt.mode), (invocation.request, 'killnowait'))
            callee.send(message.Error(message.Invocation.MESSAGE_TYPE, invocation.request, 'wamp.error.canceled'))
            self._assert_nothing_pending(caller)

    def test_cancel_kill_waits_for_callee(self):
        with joined() as callee, joined() as caller:
            invocation = self._pending_call(callee, caller, 'com.test.cancel.kill')
            caller.send(message.Cancel(1, mode='kill'))
            self.assertEqual(callee.expect(message.Interrupt).mode, 'kill')
            self._assert_nothing_pending(caller)
            callee.send(message.Error(message.Invocation.MESSAGE_TYPE, invocation.request, 'wamp.error.canceled'))
            self.assertEqual(caller.expect(message.Error).error, 'wamp.error.canceled')

    def test_callee_leaving_cancels_pending_calls(self):
        with joined() as caller:
            callee = joined()
            self._pending_call(callee, caller, 'com.test.leave.callee')
            callee.close()
            error = caller.expect(message.Error)
            self.assertEqual((error.request, error.error), (1, 'wamp.error.canceled'))

    def test_caller_leaving_interrupts_callee(self):
        with joined() as callee:
            caller = joined()
            invocation = self._pending_call(callee, caller, 'com.test.leave.caller')
            caller.close()
            interrupt = callee.expect(message.Interrupt)
            self.assertEqual((interrupt.request, interrupt.mode), (invocation.request, 'killnowait'))
            callee.send(message.Yield(invocation.request, args=['nobody listens']))
            self._assert_nothing_pending(callee)

    def test_answer_to_unknown_request_ignored_to_another_callees_aborts(self):
        """As Crossbar.io 20.x and later: a YIELD/ERROR for no pending invocation is dropped (the
        session goes on); one for an invocation sent to another callee aborts the session."""
        with joined() as callee, joined() as caller:
            invocation = self._pending_call(callee, caller, 'com.test.answer.owner')
            unknown = invocation.request + 1 if invocation.request < MAX_ID else 1
            callee.send(message.Yield(unknown, args=[1]))
            callee.send(message.Error(message.Invocation.MESSAGE_TYPE, unknown, 'com.test.error.x'))
            self._assert_nothing_pending(callee)
            self._assert_nothing_pending(caller)
            with joined() as intruder:
                intruder.send(message.Yield(invocation.request, args=['not mine']))
                self.assertEqual(intruder.expect(message.Abort).reason, 'wamp.error.protocol_violation')
                intruder.expect_closed()
            # the call is still the callee's to answer
            callee.send(message.Yield(invocation.request, args=['mine']))
            self.assertEqual(caller.expect(message.Result).args, ['mine'])


class SessionMetaTests(unittest.TestCase):
    """wamp.session.count/list/get as Crossbar.io's realm service session answers them, on a router of
    their own so that the set of joined sessions is exactly known."""

    @classmethod
    def setUpClass(cls):
        cls._router = subprocess.Popen([RUN], stdout=subprocess.PIPE, text=True)
        cls.urls = {line.split(':', 1)[0]: line for line in _read_lines(cls._router.stdout, 3)}

    @classmethod
    def tearDownClass(cls):
        cls._router.send_signal(signal.SIGTERM)
        cls._router.wait(TIMEOUT)
        cls._router.stdout.close()

    def _joined(self, transport, serializer='json'):
        client = RawWampClient(self.urls[transport], serializer, timeout=TIMEOUT)
        self.addCleanup(client.close)
        client.join()
        return client

    def _call(self, client, procedure, *args, **kwargs):
        """CALL the meta procedure; returns the RESULT or ERROR."""
        client.send(message.Call(1, procedure, args=list(args) or None, kwargs=kwargs or None))
        answer = client.recv()
        self.assertIsInstance(answer, (message.Result, message.Error))
        self.assertEqual(answer.request, 1)
        return answer

    def _result(self, client, procedure, *args, **kwargs):
        result = self._call(client, procedure, *args, **kwargs)
        self.assertIsInstance(result, message.Result, result)
        # the service session is the callee: Crossbar.io's dealer discloses it, authrole "trusted"
        self.assertEqual((result.callee_authrole, result.callee_authid, len(result.args)),
                         ('trusted', 'routerworker-worker001-realm-realm001-serviceagent', 1))
        self.assertNotIn(result.callee, (None, client.session_id))
        return result.args[0]

    def _error(self, client, procedure, *args, **kwargs):
        error = self._call(client, procedure, *args, **kwargs)
        self.assertIsInstance(error, message.Error, error)
        self.assertEqual((error.request_type, error.callee), (message.Call.MESSAGE_TYPE, None))
        return error

    def test_count_list_get_and_leaving(self):
        a, b = self._joined('rs'), self._joined('unix', 'cbor')
        ids = sorted([a.session_id, b.session_id])
        self.assertEqual(self._result(a, 'wamp.session.count'), 2)
        self.assertEqual(sorted(self._result(b, 'wamp.session.list')), ids)
        for roles, expected in ((['anonymous'], ids), (['trusted'], []), (['user', 'anonymous'], ids), ([], [])):
            with self.subTest(filter_authroles=roles):
                self.assertEqual(self._result(a, 'wamp.session.count', roles), len(expected))
                self.assertEqual(sorted(self._result(a, 'wamp.session.list', filter_authroles=roles)), expected)

        details = self._result(a, 'wamp.session.get', b.session_id)
        self.assertEqual(set(details), {'realm', 'session', 'authid', 'authrole', 'authmethod', 'authprovider',
                                        'authextra', 'serializer', 'transport', 'resumed', 'resumable',
                                        'resume_token'})
        self.assertEqual({k: details[k] for k in ('realm', 'session', 'authid', 'authrole', 'authmethod',
                                                  'authprovider', 'serializer')},
                         {'realm': 'realm1', 'session': b.session_id, 'authid': b.welcome.authid,
                          'authrole': 'anonymous', 'authmethod': 'anonymous', 'authprovider': 'static',
                          'serializer': 'cbor'})
        self.assertEqual(self._result(b, 'wamp.session.get', a.session_id)['transport']['channel_framing'],
                         'rawsocket')

        b.send(message.Goodbye())
        b.expect(message.Goodbye)
        self.assertEqual(self._result(a, 'wamp.session.list'), [a.session_id])
        self.assertEqual(self._result(a, 'wamp.session.count'), 1)
        error = self._error(a, 'wamp.session.get', b.session_id)
        self.assertEqual((error.error, error.args),
                         ('wamp.error.no_such_session',
                          ['no session with ID {} exists on this router'.format(b.session_id)]))

    def test_bad_arguments_and_encrypted_calls(self):
        client = self._joined('rs')
        for procedure, args, kwargs in (('wamp.session.get', [], {}),
                                        ('wamp.session.count', ['anonymous'], {}),
                                        ('wamp.session.list', [], {'filter_authroles': 'anonymous'}),
                                        ('wamp.session.count', [], {'no_such_argument': 1})):
            with self.subTest(procedure=procedure, args=args, kwargs=kwargs):
                error = self._error(client, procedure, *args, **kwargs)
                self.assertEqual(error.error, 'wamp.error.runtime_error')
        self.assertEqual(self._error(client, 'wamp.session.get', 'not-an-id').error, 'wamp.error.no_such_session')
        # the service session holds no keys: an encrypted CALL cannot be answered
        client.send(message.Call(2, 'wamp.session.count', payload=os.urandom(48), **ENC))
        error = client.expect(message.Error)
        self.assertEqual((error.request, error.error), (2, 'wamp.error.no_payload_codec'))
        # an ordinary "wamp." procedure the router does not serve is just not there
        client.send(message.Call(3, 'wamp.session.no_such_procedure'))
        self.assertEqual(client.expect(message.Error).error, 'wamp.error.no_such_procedure')


# ---------------------------------------------------------------- router-config/

ROUTER_CONFIG = os.path.join(HERE, '..', '..', 'router-config')


class RouterConfigTests(unittest.TestCase):
    """The Crossbar.io node configuration: listeners, the project's own cryptosign key, .gitignore."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROUTER_CONFIG, '.crossbar', 'config.json')) as stream:
            cls.transports = json.load(stream)['workers'][0]['transports']

    def test_listeners_loopback_and_unix_socket(self):
        self.assertEqual([(t['type'], t['endpoint']) for t in self.transports],
                         [('websocket', {'type': 'tcp', 'interface': '127.0.0.1', 'port': 8080}),
                          ('rawsocket', {'type': 'tcp', 'interface': '127.0.0.1', 'port': 8081}),
                          ('rawsocket', {'type': 'unix', 'path': 'router.sock'})])

    def test_cryptosign_principal_uses_the_committed_test_key(self):
        with open(os.path.join(ROUTER_CONFIG, 'cryptosign-user.test-only.key')) as stream:
            text = stream.read()
        self.assertIn('TEST-ONLY CREDENTIAL', text.splitlines()[0])
        tags = dict(line.split(': ', 1) for line in text.split('\n\n', 1)[1].splitlines())
        public = SigningKey(bytes.fromhex(tags['private-key-ed25519'])).verify_key.encode().hex()
        self.assertEqual(tags['public-key-ed25519'], public)
        for transport in self.transports:
            principal = transport['auth']['cryptosign']['principals']['cryptosign-user']
            self.assertIn(public, principal['authorized_keys'])

    def test_gitignore_keeps_node_files_out(self):
        git = shutil.which('git')
        root = os.path.abspath(os.path.join(ROUTER_CONFIG, '..'))
        if git is None or subprocess.run([git, '-C', root, 'rev-parse'], capture_output=True).returncode != 0:
            self.skipTest('not a git checkout (or no git): .gitignore cannot be checked')

        def ignored(name):
            path = os.path.join(ROUTER_CONFIG, '.crossbar', name)
            return subprocess.run([git, '-C', root, 'check-ignore', '-q', '--no-index', path]).returncode == 0

        for name in ('key.priv', 'key.pub', 'key.activate', 'node.pid', 'node.log', 'router.sock'):
            with self.subTest(name=name):
                self.assertTrue(ignored(name))
        self.assertFalse(ignored('config.json'))


# ---------------------------------------------------------------- run and with_router

class ScriptTests(unittest.TestCase):

    def test_run_prints_urls_logs_messages_and_cleans_up(self):
        with tempfile.TemporaryDirectory() as tempdir:
            socket_path = os.path.join(tempdir, 'r.sock')
            router = subprocess.Popen([RUN, '--ws', '0', '--rs', '0', '--unix', socket_path, '--realm', 'other',
                                       '--log-messages'],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                ws, rs, unix = _read_lines(router.stdout, 3)
                self.assertRegex(ws, r'^ws://127\.0\.0\.1:\d+/ws$')
                self.assertRegex(rs, r'^rs://127\.0\.0\.1:\d+$')
                self.assertEqual(unix, 'unix://' + socket_path)
                with RawWampClient(unix) as client:
                    client.join('other')
                    client.send_bytes(VECTOR_PUBLISH_JSON)
                    client.send(message.Goodbye())
                    client.expect(message.Goodbye)
                router.send_signal(signal.SIGTERM)
                _, log = router.communicate(timeout=TIMEOUT)
                self.assertEqual(router.returncode, 0)
                self.assertFalse(os.path.exists(socket_path))
                # the router's view of an encrypted payload: size and first bytes only
                self.assertIn('PUBLISH [16, 1, {"enc_algo": "cryptobox", "enc_serializer": "json"}, "com.example.topic", '
                              '<117 bytes ciphertext: 000102030405060708090a0b0c0d0e0f...>]', log)
                self.assertIn('GOODBYE [6, {}, "wamp.close.goodbye_and_out"]', log)
            finally:
                router.kill()
                router.communicate()

    def _with_router(self, script, env_extra=None):
        env = dict(os.environ)
        env.pop('WAMPBOX_TEST_ROUTER', None)
        env.update(env_extra or {})
        return subprocess.run([WITH_ROUTER, '/bin/sh', '-c', script], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT + 10)

    def test_with_router_passes_exit_codes_through(self):
        for code in (0, 1, 77):
            with self.subTest(code=code):
                done = self._with_router('echo "$WAMPBOX_ROUTER_URLS"; exit {}'.format(code))
                self.assertEqual(done.returncode, code)
                self.assertRegex(done.stdout, r'^ws://127\.0\.0\.1:\d+/ws rs://127\.0\.0\.1:\d+ unix:///\S+\n$')

    def test_with_router_uses_external_router(self):
        urls = 'ws://127.0.0.1:8080/ws rs://127.0.0.1:8081'
        done = self._with_router('echo "$WAMPBOX_ROUTER_URLS"; exit 3', {'WAMPBOX_TEST_ROUTER': urls})
        self.assertEqual((done.returncode, done.stdout), (3, urls + '\n'))

    def test_with_router_reports_a_router_that_does_not_start(self):
        done = self._with_router('exit 0', {'WAMPBOX_TEST_ROUTER_ARGS': '--no-such-option'})
        self.assertEqual(done.returncode, 1)
        self.assertTrue(re.search(r'test router exited', done.stderr), done.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
