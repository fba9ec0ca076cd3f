#!/usr/bin/python3
"""Self-test of the test router's authentication (auth.py) with Autobahn|Python's own client
authenticators (autobahn.wamp.auth: AuthTicket, AuthWampCra, AuthCryptoSign, AuthScram): every
method admits the right secret with the principal's authid and role, and refuses a wrong one
with Crossbar.io's ABORT reason and message. The router runs with
test/data/auth/router-auth.json, the principals of the auth suites."""

import base64
import os
import signal
import subprocess
import sys
import unittest
from unittest.mock import Mock

import txaio
txaio.use_twisted()

from autobahn.wamp import auth, message, types  # noqa: E402
from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402

from raw_wamp_client import CLIENT_ROLES, RawWampClient  # noqa: E402
from test_router import TIMEOUT, _read_lines  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, '..', '..')
RUN = os.path.join(HERE, 'run')
ROUTER_AUTH = os.path.join(REPO, 'test', 'data', 'auth', 'router-auth.json')
CROSSBAR_KEY = os.path.join(REPO, 'router-config', 'cryptosign-user.test-only.key')
ROUTER = {}
_router = None


def setUpModule():
    global _router
    _router = subprocess.Popen([RUN, '--auth', ROUTER_AUTH], stdout=subprocess.PIPE, text=True)
    for line in _read_lines(_router.stdout, 3):
        ROUTER[line.split(':', 1)[0]] = line


def tearDownModule():
    _router.send_signal(signal.SIGTERM)
    _router.wait(TIMEOUT)
    _router.stdout.close()


def resolved(value):
    """The value of an Autobahn result that may be an (already resolved) txaio future."""
    if not txaio.is_future(value):
        return value
    out = []
    txaio.add_callbacks(value, out.append, None)
    return out[0]


class RouterAuthTests(unittest.TestCase):

    def authenticate(self, authenticator, authid, method=None):
        """HELLO with `authenticator`'s authextra, CHALLENGE answered by it; returns the final
        WELCOME or ABORT (and the authenticator)."""
        with RawWampClient(ROUTER['rs']) as client:
            client.send(message.Hello('realm1', CLIENT_ROLES, authmethods=[method or authenticator.name],
                                      authid=authid, authextra=authenticator.authextra or None))
            reply = client.recv()
            if isinstance(reply, message.Challenge):
                session = Mock()
                session._transport.transport_details = types.TransportDetails(channel_id={})
                signature = resolved(authenticator.on_challenge(session, types.Challenge(reply.method, reply.extra)))
                if isinstance(signature, bytes):
                    signature = signature.decode('ascii')
                client.send(message.Authenticate(signature))
                reply = client.recv()
            return reply

    def check(self, right, wrong, authid):
        welcome = self.authenticate(right, authid)
        self.assertIsInstance(welcome, message.Welcome)
        self.assertEqual((welcome.authid, welcome.authrole, welcome.authmethod), (authid, 'user', right.name))
        abort = self.authenticate(wrong, authid)
        self.assertIsInstance(abort, message.Abort)
        self.assertEqual(abort.reason, 'wamp.error.not_authorized')
        self.assertTrue(abort.message)
        return welcome

    def test_ticket(self):
        self.check(auth.AuthTicket(ticket='change-me-ticket'), auth.AuthTicket(ticket='wrong'), 'ticket-user')

    def test_wampcra_plain_and_salted(self):
        self.check(auth.AuthWampCra(authid='cra-user', secret='change-me-secret'),
                   auth.AuthWampCra(authid='cra-user', secret='wrong'), 'cra-user')
        self.check(auth.AuthWampCra(authid='cra-salted-user', secret='change-me-salted-secret'),
                   auth.AuthWampCra(authid='cra-salted-user', secret='change-me-secret'), 'cra-salted-user')

    def test_cryptosign(self):
        seed = CryptosignKey.from_keyfile(CROSSBAR_KEY)._key.encode().hex()
        other = '77' * 32
        welcome = self.authenticate(auth.AuthCryptoSign(privkey=seed), 'cryptosign-user')
        self.assertEqual(welcome.authid, 'cryptosign-user')
        abort = self.authenticate(auth.AuthCryptoSign(privkey=other), 'cryptosign-user')
        self.assertEqual(abort.reason, 'wamp.error.not_authorized')
        # the authorized public key announced, the challenge signed by another key (Autobahn's
        # constructor refuses a mismatching pubkey, so it is swapped in afterwards)
        impostor = auth.AuthCryptoSign(privkey=other)
        impostor._args['authextra'] = {'pubkey': CryptosignKey.from_keyfile(CROSSBAR_KEY).public_key()}
        abort = self.authenticate(impostor, 'cryptosign-user')
        self.assertEqual(abort.message, 'signed message has invalid signature')

    def test_scram_argon2id_with_the_routers_signature_checked_by_autobahn(self):
        client = auth.AuthScram(authid='scram-user', password='change-me-password')
        welcome = self.check(client, auth.AuthScram(authid='scram-user', password='wrong'), 'scram-user')
        self.assertIsNone(client.on_welcome(Mock(), welcome.authextra))
        forged = dict(welcome.authextra, scram_server_signature=base64.b64encode(b'x' * 32).decode())
        self.assertIsNotNone(client.on_welcome(Mock(), forged))

    def test_unknown_principal_and_method(self):
        abort = self.authenticate(auth.AuthTicket(ticket='x'), 'nobody')
        self.assertEqual(abort.reason, 'wamp.error.not_authorized')
        abort = self.authenticate(auth.AuthTicket(ticket='x'), 'ticket-user', method='x-unknown')
        self.assertEqual(abort.reason, 'wamp.error.no_auth_method')

    def test_channel_binding_refused_without_tls(self):
        key = auth.AuthCryptoSign(privkey='77' * 32, authextra={'channel_binding': 'tls-unique'})
        abort = self.authenticate(key, 'cryptosign-user')
        self.assertIsInstance(abort, message.Abort)


if __name__ == '__main__':
    sys.exit(unittest.main(verbosity=2))
