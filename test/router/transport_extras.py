"""Transport options of the wampbox test router beyond plain ws/rs/unix: TLS listeners (wss://,
rss://, optionally requiring a client certificate) and RawSocket PING answers.

Crossbar.io configures TLS per transport with an "endpoint" {"tls": {"key", "certificate",
"ca_certificates", ...}}; these options give the test router the same shape on the command line.
Crossbar.io (like Autobahn|Python, whose RawSocket protocol it uses) does NOT answer RawSocket
PING frames: it reads one as an oversized message and drops the connection. --rawsocket-ping
makes the test router answer them as the RawSocket spec says, so that a client's RawSocket
keep-alive can be tested; without it the test router behaves like Crossbar.io.
"""

from OpenSSL import crypto
from twisted.internet import ssl
from autobahn.twisted.rawsocket import WampRawSocketServerProtocol

# RawSocket frame types (low 3 bits of a frame header's first octet)
_MESSAGE, _PING, _PONG = 0, 1, 2


def add_arguments(parser):
    """The command-line options of this module."""
    parser.add_argument('--tls-cert', metavar='FILE',
                        help='PEM server certificate: also listen with TLS (wss:// and rss://)')
    parser.add_argument('--tls-key', metavar='FILE', help='PEM private key of --tls-cert')
    parser.add_argument('--tls-client-ca', metavar='FILE',
                        help='PEM CA certificate: require a client certificate signed by it')
    parser.add_argument('--wss', type=int, default=0, metavar='PORT',
                        help='WebSocket over TLS port (0 = free port; with --tls-cert)')
    parser.add_argument('--rss', type=int, default=0, metavar='PORT',
                        help='RawSocket over TLS port (0 = free port; with --tls-cert)')
    parser.add_argument('--rawsocket-ping', action='store_true',
                        help='answer RawSocket PING frames with PONG (Crossbar.io does not)')


def check_arguments(parser, args):
    """Refuses option combinations that cannot work."""
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    if args.tls_client_ca and not args.tls_cert:
        parser.error('--tls-client-ca needs --tls-cert')


class _PingAnsweringRawSocketProtocol(WampRawSocketServerProtocol):
    """RawSocket server protocol that reads the frame type octet: MESSAGE frames go to WAMP as
    usual, PING is answered with a PONG carrying the same payload, PONG is ignored."""

    def connectionMade(self):
        super().connectionMade()
        self._frames = b''

    def dataReceived(self, data):
        if not self._handshake_complete:
            # the handshake; it feeds bytes after it back through this method
            super().dataReceived(data)
            return
        self._frames += data
        while len(self._frames) >= 4:
            frame_type = self._frames[0]
            length = int.from_bytes(self._frames[1:4], 'big')
            if frame_type > _PONG or length > self.MAX_LENGTH:
                self.abort()
                return
            if len(self._frames) < 4 + length:
                return
            payload = self._frames[4:4 + length]
            self._frames = self._frames[4 + length:]
            if frame_type == _MESSAGE:
                self.stringReceived(payload)
            elif frame_type == _PING:
                self.transport.write(bytes([_PONG]) + length.to_bytes(3, 'big') + payload)


def configure_rawsocket(args, rs_factory):
    """With --rawsocket-ping, RawSocket connections answer PINGs."""
    if args.rawsocket_ping:
        rs_factory.protocol = _PingAnsweringRawSocketProtocol


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _tls_options(args):
    """Server TLS settings: TLS 1.2 or later, the certificate, and with --tls-client-ca a
    required client certificate."""
    key = crypto.load_privatekey(crypto.FILETYPE_PEM, _read(args.tls_key))
    cert = crypto.load_certificate(crypto.FILETYPE_PEM, _read(args.tls_cert))
    client_ca = (crypto.load_certificate(crypto.FILETYPE_PEM, _read(args.tls_client_ca))
                 if args.tls_client_ca else None)
    return ssl.CertificateOptions(
        privateKey=key, certificate=cert,
        verify=client_ca is not None, caCerts=[client_ca] if client_ca else None,
        requireCertificate=client_ca is not None,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2)


def listen_tls(args, reactor, interface, ws_factory, rs_factory, ws_path):
    """With --tls-cert, opens the wss:// and rss:// listeners; returns their URLs (none
    without)."""
    if not args.tls_cert:
        return []
    options = _tls_options(args)
    wss_port = reactor.listenSSL(args.wss, ws_factory, options, interface=interface)
    rss_port = reactor.listenSSL(args.rss, rs_factory, options, interface=interface)
    return ['wss://{}:{}{}'.format(interface, wss_port.getHost().port, ws_path),
            'rss://{}:{}'.format(interface, rss_port.getHost().port)]
