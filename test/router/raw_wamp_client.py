"""A minimal blocking WAMP-over-RawSocket client for wire-level checks of the test router.

It speaks through Autobahn|Python's serializers but has no session logic of its
own, so a test decides every message sent and sees every message received,
including the raw (unparsed) message arrays.
"""

import socket
import struct
from urllib.parse import urlparse

import txaio
# Autobahn's serializers need a txaio framework chosen (for timestamps only; no reactor runs here)
txaio.use_twisted()

from autobahn.wamp import message, role  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402

_SERIALIZERS = {'json': JsonSerializer, 'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}
_RAWSOCKET_MAGIC = 0x7F
# handshake octet 2 high nibble: we accept messages up to 2^(9+15) = 16 MiB
_MAX_LENGTH_EXPONENT = 0xF
_FRAME_REGULAR = 0

CLIENT_ROLES = {
    'publisher': role.RolePublisherFeatures(publisher_exclusion=True, publisher_identification=True,
                                            subscriber_blackwhite_listing=True, payload_transparency=True),
    'subscriber': role.RoleSubscriberFeatures(pattern_based_subscription=True, publisher_identification=True,
                                              payload_transparency=True),
    'caller': role.RoleCallerFeatures(call_canceling=True, progressive_call_results=True,
                                      caller_identification=True, payload_transparency=True),
    'callee': role.RoleCalleeFeatures(call_canceling=True, progressive_call_results=True,
                                      pattern_based_registration=True, caller_identification=True,
                                      payload_transparency=True),
}


class ConnectionClosed(Exception):
    """The router closed the connection."""


class RawWampClient:
    """One RawSocket connection (rs://host:port or unix:///path) with a chosen serializer."""

    def __init__(self, url, serializer='json', timeout=10.0):
        parsed = urlparse(url)
        if parsed.scheme == 'rs':
            self._sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        elif parsed.scheme == 'unix':
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(timeout)
            self._sock.connect(parsed.path)
        else:
            raise ValueError('RawWampClient needs an rs:// or unix:// URL, not {!r}'.format(url))
        self._serializer = _SERIALIZERS[serializer]()
        serializer_id = self._serializer.RAWSOCKET_SERIALIZER_ID
        self._sock.sendall(bytes([_RAWSOCKET_MAGIC, (_MAX_LENGTH_EXPONENT << 4) | serializer_id, 0, 0]))
        reply = self._recv_exact(4)
        if reply[0] != _RAWSOCKET_MAGIC or reply[1] & 0x0F != serializer_id:
            raise ConnectionError('RawSocket handshake refused: {}'.format(reply.hex()))
        self.session_id = None
        self.welcome = None

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, count):
        data = b''
        while len(data) < count:
            chunk = self._sock.recv(count - len(data))
            if not chunk:
                raise ConnectionClosed()
            data += chunk
        return data

    def send_bytes(self, data):
        """Send one serialized message as a RawSocket frame."""
        self._sock.sendall(struct.pack('!I', (_FRAME_REGULAR << 24) | len(data)) + data)

    def send(self, msg):
        """Send an Autobahn message object."""
        self.send_bytes(self._serializer.serialize(msg)[0])

    def send_raw(self, wamp_list):
        """Send a message given as a plain list (may be something Autobahn would not build)."""
        self.send_bytes(self._serializer._serializer.serialize(wamp_list))

    def recv_bytes(self, timeout=None):
        """The next frame's payload; raises ConnectionClosed or socket.timeout."""
        previous = self._sock.gettimeout()
        if timeout is not None:
            self._sock.settimeout(timeout)
        try:
            header = self._recv_exact(4)
            length = struct.unpack('!I', header)[0] & 0xFFFFFF
            if header[0] != _FRAME_REGULAR:
                raise ConnectionError('unexpected RawSocket frame type {}'.format(header[0]))
            return self._recv_exact(length)
        finally:
            self._sock.settimeout(previous)

    def recv(self, timeout=None):
        """The next message, parsed by Autobahn."""
        return self._serializer.unserialize(self.recv_bytes(timeout))[0]

    def recv_raw(self, timeout=None):
        """The next message as the plain decoded array (bytes stay bytes)."""
        return self._serializer._serializer.unserialize(self.recv_bytes(timeout))[0]

    def expect(self, klass, timeout=None):
        """The next message, which must be a `klass` (else AssertionError with what came)."""
        msg = self.recv(timeout)
        if not isinstance(msg, klass):
            raise AssertionError('expected {}, got {}'.format(klass.__name__, msg))
        return msg

    def expect_closed(self, timeout=5.0):
        """Assert the router closes the connection (pending messages are skipped)."""
        try:
            while True:
                self.recv_bytes(timeout)
        except socket.timeout:
            raise AssertionError('router did not close the connection within {} s'.format(timeout))
        except (ConnectionClosed, ConnectionResetError):
            return

    def join(self, realm='realm1'):
        """HELLO -> WELCOME; returns the WELCOME."""
        self.send(message.Hello(realm, CLIENT_ROLES))
        self.welcome = self.expect(message.Welcome)
        self.session_id = self.welcome.session
        return self.welcome
