#!/usr/bin/python3
"""Autobahn|Python (Twisted) peer for wampbox's interop tests and demo.

    autobahn_peer.py --url URL --serializer json|msgpack|cbor [--realm realm1]
                     [--keyring FILE] [--timeout S] MODE ...

URL: ws://host:port/path, rs://host:port (RawSocket over TCP) or unix:///path.
Modes:
    subscribe TOPIC --count N [--match exact|prefix|wildcard] [--timeout S]
        prints "ready", then one JSON line per event {"args","kwargs","details"};
        an encrypted event this peer has no key ring for is printed with
        "payload": {"$binary": base64} instead. Exit 0 after N events.
    publish TOPIC [--args JSON] [--kwargs JSON] [--repeat N] [--interval S] [--include-me]
        acknowledged publishes; exit 0 once all are acknowledged.
    call PROC [--args JSON] [--kwargs JSON] [--details]
        prints {"args","kwargs"} of the result; a WAMP error is printed as
        {"error": uri, "args", "kwargs"} with exit code 2. --details adds
        "details": the RESULT message's callee, callee_authid, callee_authrole,
        enc_algo and enc_serializer as they came over the wire (before decryption).
    callee PROC [--count N] [--match exact|prefix|wildcard]
        prints "ready", then one JSON line per invocation; answers with the
        call's args/kwargs, or raises ApplicationError(uri, "failed on request",
        code=7) if kwargs has {"fail": uri}. Exit 0 after N calls (no --count:
        serves until the timeout, then exits 0).
Binary values in JSON (in and out) are written {"$binary": "<base64>"}.
Exit codes: 0 ok, 1 failure (connection, session abort, timeout, bad input),
2 the WAMP call/publish failed with an error.
--keyring FILE: wampbox's key-ring file, a JSON object
    {"<uri prefix>": {"originator_priv": b64|null, "originator_pub": b64|null,
                      "responder_priv": b64|null, "responder_pub": b64|null,
                      "policy": "strict"|"lax"}}   ("" = default key; policy is
    ignored, Autobahn has none) loaded into an autobahn.wamp.cryptobox.KeyRing.
"""

import argparse
import base64
import binascii
import json
import sys
from urllib.parse import urlparse

import txaio
txaio.use_twisted()

from twisted.internet import reactor  # noqa: E402 (txaio must pick Twisted first)
from twisted.internet.defer import inlineCallbacks  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint, UNIXClientEndpoint  # noqa: E402
from twisted.internet.task import deferLater  # noqa: E402
from autobahn.twisted.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.twisted.wamp import ApplicationSession  # noqa: E402
from autobahn.twisted.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp import message, types  # noqa: E402
from autobahn.wamp.cryptobox import Key, KeyRing  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from nacl.encoding import Base64Encoder  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_WAMP_ERROR = 2

SERIALIZERS = {'json': JsonSerializer, 'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}
MATCH_POLICIES = ('exact', 'prefix', 'wildcard')
# how long a finished peer waits for the GOODBYE handshake before it just stops
LEAVE_GRACE_SECONDS = 2.0


class UsageError(Exception):
    """Bad command line or input file; reported on stderr with exit code 1."""


# ---------------------------------------------------------------- JSON with binary

def to_json(value):
    """A WAMP value as JSON-able data, bytes as {"$binary": base64}."""
    if isinstance(value, bytes):
        return {'$binary': base64.b64encode(value).decode('ascii')}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(value):
    """Inverse of to_json: {"$binary": base64} becomes bytes."""
    if isinstance(value, dict):
        if set(value) == {'$binary'} and isinstance(value['$binary'], str):
            try:
                return base64.b64decode(value['$binary'], validate=True)
            except binascii.Error as error:
                raise UsageError('invalid base64 in $binary: {}'.format(error))
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def parse_json_option(text, expected_type, name):
    """--args / --kwargs: JSON of the expected container type, with $binary decoded."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError('{} is not valid JSON: {}'.format(name, error))
    if not isinstance(value, expected_type):
        raise UsageError('{} must be a JSON {}'.format(name, 'array' if expected_type is list else 'object'))
    return from_json(value)


def emit(data):
    """Print one JSON line to stdout (flushed: tests read it while we run)."""
    print(json.dumps(to_json(data), ensure_ascii=False), flush=True)


def emit_ready():
    print('ready', flush=True)


def details_dict(details, fields):
    """The set (non-None) fields of an Autobahn details object as a dict."""
    result = {}
    for field in fields:
        value = getattr(details, field, None)
        if value is not None:
            result[field] = value
    return result


# ---------------------------------------------------------------- key ring

_KEY_FIELDS = ('originator_priv', 'originator_pub', 'responder_priv', 'responder_pub')


def _public_key_of(private_b64):
    return PrivateKey(private_b64, encoder=Base64Encoder).public_key.encode(encoder=Base64Encoder).decode('ascii')


def _key_from_entry(prefix, entry):
    if not isinstance(entry, dict):
        raise UsageError('key ring entry {!r} must be an object'.format(prefix))
    unknown = set(entry) - set(_KEY_FIELDS) - {'policy'}
    if unknown:
        raise UsageError('key ring entry {!r} has unknown fields {}'.format(prefix, sorted(unknown)))
    if entry.get('policy') not in (None, 'strict', 'lax'):
        raise UsageError('key ring entry {!r}: policy must be "strict" or "lax"'.format(prefix))
    keys = {}
    for field in _KEY_FIELDS:
        value = entry.get(field)
        if value is not None and not isinstance(value, str):
            raise UsageError('key ring entry {!r}: {} must be a base64 string or null'.format(prefix, field))
        keys[field] = value
    try:
        for role in ('originator', 'responder'):
            priv, pub = keys[role + '_priv'], keys[role + '_pub']
            if priv is not None and pub is not None:
                # Key() would compare the str with a PublicKey object (always unequal), so check here
                if _public_key_of(priv) != pub:
                    raise UsageError('key ring entry {!r}: {}_pub does not belong to {}_priv'.format(prefix, role, role))
                keys[role + '_pub'] = None
        return Key(**keys)
    except UsageError:
        raise
    except Exception as error:  # nacl / Key report bad keys with assorted exception types
        raise UsageError('key ring entry {!r}: {}'.format(prefix, error))


def load_keyring(path):
    """Read wampbox's key-ring file into an Autobahn KeyRing ("" = the default key)."""
    try:
        with open(path, encoding='utf-8') as stream:
            document = json.load(stream)
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError('cannot read key ring {}: {}'.format(path, error))
    if not isinstance(document, dict):
        raise UsageError('key ring {} must be a JSON object'.format(path))
    keyring = KeyRing()
    for prefix, entry in document.items():
        keyring.set_key(prefix, _key_from_entry(prefix, entry))
    return keyring


# ---------------------------------------------------------------- run control

class Runner:
    """Owns the exit code and the shutdown: leave the session, then stop the reactor."""

    def __init__(self):
        self.exit_code = EXIT_FAILURE
        self.done = False
        self.session = None

    def finish(self, code, error=None):
        """End the program with `code` (first call wins), printing `error` to stderr."""
        if self.done:
            return
        self.done = True
        self.exit_code = code
        if error:
            print('autobahn_peer: {}'.format(error), file=sys.stderr, flush=True)
        if self.session is not None and self.session.is_attached():
            self.session.leave()
            reactor.callLater(LEAVE_GRACE_SECONDS, self.stop)
        else:
            self.stop()

    @staticmethod
    def stop():
        if reactor.running:
            reactor.stop()


class Peer(ApplicationSession):
    """The WAMP session: joins the realm, then runs the chosen mode."""

    def __init__(self, config, options, runner, keyring):
        super().__init__(config)
        self._options = options
        self._runner = runner
        # set by subscribe mode: handles encrypted events this peer has no keys for
        self.on_opaque_event = None
        # call mode: the details of the last RESULT as received (Autobahn drops enc_algo on decrypting)
        self.wire_result_details = None
        if keyring is not None:
            self.set_payload_codec(keyring)
        runner.session = self

    def onMessage(self, msg):
        # Autobahn silently drops encrypted events without a key ring; show them as ciphertext instead
        if (isinstance(msg, message.Event) and msg.enc_algo and self._payload_codec is None
                and self.on_opaque_event is not None):
            self.on_opaque_event(msg)
            return
        if isinstance(msg, message.Result):
            self.wire_result_details = details_dict(msg, ('callee', 'callee_authid', 'callee_authrole', 'enc_algo',
                                                          'enc_serializer'))
        super().onMessage(msg)

    @inlineCallbacks
    def onJoin(self, details):
        try:
            yield MODES[self._options.mode](self, self._options, self._runner)
        except ApplicationError as error:
            emit({'error': error.error, 'args': list(error.args), 'kwargs': error.kwargs})
            self._runner.finish(EXIT_WAMP_ERROR)
        except Exception as error:  # any failure must end the process, not leave it hanging
            self._runner.finish(EXIT_FAILURE, '{} failed: {}'.format(self._options.mode, error))

    def onLeave(self, details):
        if not self._runner.done:
            self._runner.finish(EXIT_FAILURE, 'session ended by router: {} {}'.format(details.reason, details.message or ''))
        super().onLeave(details)

    def onDisconnect(self):
        if not self._runner.done:
            self._runner.finish(EXIT_FAILURE, 'connection lost')
        self._runner.stop()


# ---------------------------------------------------------------- modes

def run_subscribe(session, options, runner):
    received = [0]

    def count_one():
        received[0] += 1
        if received[0] >= options.count:
            runner.finish(EXIT_OK)

    def on_event(*args, details, **kwargs):
        emit({'args': list(args), 'kwargs': kwargs,
              'details': dict(details_dict(details, ('publication', 'publisher', 'publisher_authid',
                                                     'publisher_authrole', 'topic', 'retained', 'enc_algo')),
                              subscription=details.subscription.id)})
        count_one()

    def on_opaque_event(msg):
        emit({'args': None, 'kwargs': None, 'payload': msg.payload,
              'details': dict(details_dict(msg, ('publication', 'publisher', 'publisher_authid',
                                                 'publisher_authrole', 'topic', 'enc_algo', 'enc_key',
                                                 'enc_serializer')),
                              subscription=msg.subscription)})
        count_one()

    session.on_opaque_event = on_opaque_event
    d = session.subscribe(on_event, options.uri,
                          options=types.SubscribeOptions(match=options.match, details_arg='details'))
    d.addCallback(lambda _: emit_ready())
    return d


@inlineCallbacks
def run_publish(session, options, runner):
    args = parse_json_option(options.args, list, '--args')
    kwargs = parse_json_option(options.kwargs, dict, '--kwargs')
    publish_options = types.PublishOptions(acknowledge=True, exclude_me=not options.include_me)
    for index in range(options.repeat):
        if index > 0:
            yield deferLater(reactor, options.interval, lambda: None)
        yield session.publish(options.uri, *args, options=publish_options, **kwargs)
    runner.finish(EXIT_OK)


@inlineCallbacks
def run_call(session, options, runner):
    args = parse_json_option(options.args, list, '--args')
    kwargs = parse_json_option(options.kwargs, dict, '--kwargs')
    # details=True: always a CallResult, so the exact args/kwargs of the RESULT are visible
    result = yield session.call(options.uri, *args, options=types.CallOptions(details=True), **kwargs)
    output = {'args': list(result.results), 'kwargs': result.kwresults}
    if options.details:
        output['details'] = session.wire_result_details
    emit(output)
    runner.finish(EXIT_OK)


def run_callee(session, options, runner):
    answered = [0]

    def endpoint(*args, details, **kwargs):
        emit({'args': list(args), 'kwargs': kwargs,
              'details': dict(details_dict(details, ('procedure', 'caller', 'caller_authid', 'caller_authrole',
                                                     'enc_algo')),
                              receive_progress=details.progress is not None)})
        answered[0] += 1
        if options.count is not None and answered[0] >= options.count:
            # after this call's YIELD/ERROR has gone out
            reactor.callLater(0, runner.finish, EXIT_OK)
        if 'fail' in kwargs:
            raise ApplicationError(kwargs['fail'], 'failed on request', code=7)
        return types.CallResult(*args, **kwargs)

    d = session.register(endpoint, options.uri,
                         options=types.RegisterOptions(match=options.match, details_arg='details'))
    d.addCallback(lambda _: emit_ready())
    return d


MODES = {'subscribe': run_subscribe, 'publish': run_publish, 'call': run_call, 'callee': run_callee}


# ---------------------------------------------------------------- command line

class _ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; here 2 means "WAMP error", so usage errors exit 1."""

    def error(self, text):
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILURE, '{}: error: {}\n'.format(self.prog, text))


def parse_args(argv):
    parser = _ArgumentParser(prog='autobahn_peer.py', description='Autobahn|Python peer for wampbox tests')
    parser.add_argument('--url', required=True, help='ws://host:port/path, rs://host:port or unix:///path')
    parser.add_argument('--serializer', required=True, choices=sorted(SERIALIZERS))
    parser.add_argument('--realm', default='realm1')
    parser.add_argument('--keyring', metavar='FILE', help="wampbox key-ring JSON file (cryptobox keys)")
    parser.add_argument('--timeout', type=float, default=20.0, metavar='S',
                        help='give up (exit 1) after S seconds; default 20')
    modes = parser.add_subparsers(dest='mode', required=True, metavar='MODE')

    sub = modes.add_parser('subscribe', help='print N events')
    sub.add_argument('uri', metavar='TOPIC')
    sub.add_argument('--count', type=int, required=True, metavar='N')
    sub.add_argument('--match', choices=MATCH_POLICIES, default='exact')
    sub.add_argument('--timeout', type=float, dest='mode_timeout', metavar='S', help='overrides the global --timeout')

    pub = modes.add_parser('publish', help='publish (acknowledged)')
    pub.add_argument('uri', metavar='TOPIC')
    pub.add_argument('--args', default='[]', metavar='JSON')
    pub.add_argument('--kwargs', default='{}', metavar='JSON')
    pub.add_argument('--repeat', type=int, default=1, metavar='N')
    pub.add_argument('--interval', type=float, default=0.1, metavar='S')
    pub.add_argument('--include-me', action='store_true', help='send exclude_me=false')

    call = modes.add_parser('call', help='call a procedure, print the result')
    call.add_argument('uri', metavar='PROC')
    call.add_argument('--args', default='[]', metavar='JSON')
    call.add_argument('--kwargs', default='{}', metavar='JSON')
    call.add_argument('--details', action='store_true', help="also print the RESULT's details as received")

    callee = modes.add_parser('callee', help='register an echo procedure')
    callee.add_argument('uri', metavar='PROC')
    callee.add_argument('--count', type=int, metavar='N')
    callee.add_argument('--match', choices=MATCH_POLICIES, default='exact')

    options = parser.parse_args(argv)
    for name in ('count', 'repeat'):
        if getattr(options, name, None) is not None and getattr(options, name) < 1:
            parser.error('--{} must be at least 1'.format(name))
    if options.timeout <= 0:
        parser.error('--timeout must be positive')
    if getattr(options, 'mode_timeout', None) is not None:
        options.timeout = options.mode_timeout
    return options


def connect(url, serializer, session_factory):
    """Open the transport for a ws://, rs:// or unix:// URL; returns the connect Deferred."""
    parsed = urlparse(url)
    if parsed.scheme == 'ws':
        factory = WampWebSocketClientFactory(session_factory, url=url, serializers=[serializer])
        endpoint = TCP4ClientEndpoint(reactor, parsed.hostname, parsed.port or 80)
    elif parsed.scheme == 'rs' and parsed.hostname and parsed.port:
        factory = WampRawSocketClientFactory(session_factory, serializer=serializer)
        endpoint = TCP4ClientEndpoint(reactor, parsed.hostname, parsed.port)
    elif parsed.scheme == 'unix' and parsed.path:
        factory = WampRawSocketClientFactory(session_factory, serializer=serializer)
        endpoint = UNIXClientEndpoint(reactor, parsed.path)
    else:
        raise UsageError('unsupported URL {!r} (use ws://host:port/path, rs://host:port or unix:///path)'.format(url))
    return endpoint.connect(factory)


def main(argv):
    options = parse_args(argv)
    runner = Runner()
    try:
        keyring = load_keyring(options.keyring) if options.keyring else None
        config = types.ComponentConfig(realm=options.realm)
        connecting = connect(options.url, SERIALIZERS[options.serializer](),
                             lambda: Peer(config, options, runner, keyring))
    except UsageError as error:
        print('autobahn_peer: {}'.format(error), file=sys.stderr)
        return EXIT_FAILURE
    # also catches a transport that closes before a session exists (e.g. refused WebSocket handshake)
    connecting.addCallback(lambda protocol: protocol.is_closed.addCallback(
        lambda _: runner.finish(EXIT_FAILURE, 'connection to {} closed'.format(options.url))))
    connecting.addErrback(lambda failure: runner.finish(
        EXIT_FAILURE, 'cannot connect to {}: {}'.format(options.url, failure.getErrorMessage())))

    def on_timeout():
        if options.mode == 'callee' and options.count is None:
            runner.finish(EXIT_OK)
        else:
            runner.finish(EXIT_FAILURE, 'timeout after {} s in mode {}'.format(options.timeout, options.mode))

    reactor.callLater(options.timeout, on_timeout)
    reactor.run()
    return runner.exit_code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
