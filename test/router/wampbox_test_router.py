"""wampbox test router: a small WAMP router built from Autobahn|Python's own message,
serializer and transport classes, so that on the wire it behaves like Crossbar.io.

Where Crossbar.io goes beyond the WAMP spec the router follows Crossbar.io (22.x/23.1): RESULT
discloses the callee, "wamp." URIs are reserved (PUBLISH/REGISTER refused), a WebSocket is
accepted on any path, and wamp.session.count/list/get are answered (meta.py).

A test fixture of the wampbox project, not part of the library. Usage:

    run [--ws PORT] [--rs PORT] [--unix PATH] [--realm realm1] [--log-messages] [--disclose]
        [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE] [--wss PORT] [--rss PORT]]
        [--rawsocket-ping]
        [--auth FILE]

--auth names a JSON file with the authentication methods and principals, in the format of a
Crossbar.io transport's "auth" object (see auth.py); without it only anonymous is offered.

Listens on 127.0.0.1 only (port 0 = a free port chosen by the OS). Once all
listeners are up it prints one URL per line to stdout (ws://, rs://, unix://, then
with --tls-cert wss:// and rss://) and serves until SIGINT/SIGTERM.
"""

import argparse
import os
import shutil
import sys
import tempfile

import txaio
txaio.use_twisted()

from twisted.internet import reactor, task  # noqa: E402 (txaio must pick Twisted first)
from twisted.internet.error import CannotListenError  # noqa: E402
from twisted.logger import (FilteringLogObserver, LogLevel, LogLevelFilterPredicate,  # noqa: E402
                            globalLogBeginner, textFileLogObserver)
from autobahn.twisted.rawsocket import WampRawSocketServerFactory  # noqa: E402
from autobahn.twisted.websocket import WampWebSocketServerFactory  # noqa: E402

import auth  # noqa: E402
from message_log import MessageLog  # noqa: E402
from serializers import router_serializers  # noqa: E402
from session import Realm, RouterSession  # noqa: E402
import transport_extras  # noqa: E402

LOOPBACK = '127.0.0.1'
# the path printed in the ws:// URL; like a Crossbar.io "websocket" transport the router accepts
# the WebSocket upgrade on any path
WS_PATH = '/ws'


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog='run', description='wampbox test router (Crossbar.io-like WAMP router)')
    parser.add_argument('--ws', type=int, default=0, metavar='PORT', help='WebSocket port (0 = free port)')
    parser.add_argument('--rs', type=int, default=0, metavar='PORT', help='RawSocket TCP port (0 = free port)')
    parser.add_argument('--unix', metavar='PATH', help='RawSocket Unix socket path (default: fresh temp path)')
    parser.add_argument('--realm', default='realm1', help='the one realm served (default realm1)')
    parser.add_argument('--log-messages', action='store_true',
                        help='print every received and sent WAMP message to stderr')
    parser.add_argument('--disclose', action='store_true',
                        help='always disclose publisher/caller identity (Crossbar.io "disclose" permission)')
    parser.add_argument('--auth', metavar='FILE',
                        help='authentication methods and principals (JSON, Crossbar.io "auth" format; '
                             'default: anonymous only)')
    transport_extras.add_arguments(parser)
    args = parser.parse_args(argv)
    transport_extras.check_arguments(parser, args)
    return args


class _UnixSocketPath:
    """The Unix socket path: given, or a fresh one in a private temp dir; removed at shutdown."""

    def __init__(self, given):
        self._tempdir = None if given else tempfile.mkdtemp(prefix='wampbox-router-')
        self.path = given or os.path.join(self._tempdir, 'router.sock')

    def remove(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)


def _log_warnings_to_stderr():
    """Autobahn reports dropped connections and parse errors as log warnings; show those on stderr.

    Unlike txaio.start_logging this keeps stdout as it is: the URL lines go there.
    """
    observer = FilteringLogObserver(textFileLogObserver(sys.stderr),
                                    [LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def main(argv):
    """Start all listeners, print their URLs, serve until signalled; returns the exit code."""
    args = _parse_args(argv)
    _log_warnings_to_stderr()

    try:
        authenticator = auth.load(args.auth)
    except (OSError, ValueError) as error:
        print('wampbox test router: cannot read --auth {}: {}'.format(args.auth, error), file=sys.stderr)
        return 1
    realm = Realm(args.realm, args.disclose, authenticator)
    message_log = MessageLog(args.log_messages)

    def new_session():
        return RouterSession(realm, message_log)

    unix_socket = _UnixSocketPath(args.unix)
    ws_factory = WampWebSocketServerFactory(new_session, serializers=router_serializers())
    rs_factory = WampRawSocketServerFactory(new_session, serializers=router_serializers())
    transport_extras.configure_rawsocket(args, rs_factory)
    try:
        ws_port = reactor.listenTCP(args.ws, ws_factory, interface=LOOPBACK)
        rs_port = reactor.listenTCP(args.rs, rs_factory, interface=LOOPBACK)
        reactor.listenUNIX(unix_socket.path, rs_factory)
        tls_urls = transport_extras.listen_tls(args, reactor, LOOPBACK, ws_factory, rs_factory, WS_PATH)
    except CannotListenError as error:
        print('wampbox test router: cannot listen: {}'.format(error), file=sys.stderr)
        unix_socket.remove()
        return 1

    print('ws://{}:{}{}'.format(LOOPBACK, ws_port.getHost().port, WS_PATH))
    print('rs://{}:{}'.format(LOOPBACK, rs_port.getHost().port))
    print('unix://{}'.format(unix_socket.path))
    for url in tls_urls:
        print(url)
    sys.stdout.flush()

    def shutdown():
        """GOODBYE to every session, written out before the reactor stops."""
        realm.shutdown()
        # Why the Deferred: the reactor waits for it; without one it stops at once and drops
        # what the transports have not written yet (the GOODBYEs, which they write next).
        return task.deferLater(reactor, 0.1, lambda: None)

    reactor.addSystemEventTrigger('before', 'shutdown', shutdown)
    reactor.addSystemEventTrigger('after', 'shutdown', unix_socket.remove)
    reactor.run()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
