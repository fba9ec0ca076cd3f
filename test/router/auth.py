"""Router-side WAMP authentication as Crossbar.io does it with static principals.

The configuration is the "auth" object of a Crossbar.io transport (router-config/.crossbar/
config.json uses the same), read from a JSON file given with --auth:

    {"anonymous": {"type": "static", "role": "anonymous"},
     "ticket": {"type": "static", "principals": {AUTHID: {"ticket": T, "role": R}}},
     "wampcra": {"type": "static", "users": {AUTHID: {"secret": S, "role": R
                                                        [, "salt": s, "iterations": n, "keylen": k]}}},
     "cryptosign": {"type": "static", "principals": {AUTHID: {"authorized_keys": [HEX], "role": R}}},
     "scram": {"type": "static", "principals": {AUTHID: {"kdf": "argon2id-13" | "pbkdf2",
               "iterations": n, "memory": m, "salt": HEX, "stored-key": HEX, "server-key": HEX,
               "role": R}}}}

Without --auth only anonymous is offered (role "anonymous"). The client's authmethods are tried
in its order; the first one configured is used (Crossbar.io's rule). Signatures are checked with
Autobahn|Python's own helpers (autobahn.wamp.auth, nacl through autobahn.wamp.cryptosign), and a
refusal is an ABORT with Crossbar.io's reasons and messages.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os

from autobahn import util
from autobahn.wamp import auth as wamp_auth
from autobahn.wamp import message
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from nacl.exceptions import BadSignatureError
from passlib.utils import saslprep

_PROVIDER = 'static'
_DEFAULT = {'anonymous': {'type': 'static', 'role': 'anonymous'}}


class Admission:
    """A successful authentication: what WELCOME tells the client."""

    def __init__(self, authid, authrole, authmethod, authextra=None):
        self.authid = authid
        self.authrole = authrole
        self.authmethod = authmethod
        self.authprovider = _PROVIDER
        self.authextra = authextra


def load(path):
    """The auth configuration from a JSON file (None: anonymous only)."""
    if path is None:
        return Authenticator(_DEFAULT)
    with open(path, encoding='utf8') as f:
        return Authenticator(json.load(f))


def _deny(text, reason=ApplicationError.NOT_AUTHORIZED):
    return message.Abort(reason, text)


class Authenticator:
    """Starts one pending authentication per HELLO."""

    def __init__(self, config):
        self._config = config

    def hello(self, hello, session_id):
        """Returns (Admission, None, None), (None, CHALLENGE, pending) or (None, ABORT, None)."""
        methods = hello.authmethods or ['anonymous']
        for method in methods:
            if method in self._config and method in _METHODS:
                return _METHODS[method](self._config[method], session_id).hello(hello)
        return None, _deny('cannot authenticate using any of the offered authmethods {}'.format(methods),
                           ApplicationError.NO_AUTH_METHOD), None


class _Pending:
    """Base of a pending authentication: the principal found by HELLO, then AUTHENTICATE."""

    METHOD = None

    def __init__(self, config, session_id):
        self._config = config
        self._session_id = session_id
        self._authid = None
        self._role = None

    def _challenge(self, extra):
        return None, message.Challenge(self.METHOD, extra), self

    def _admit(self, authextra=None):
        return Admission(self._authid, self._role, self.METHOD, authextra)

    def _principal(self, table, authid):
        if authid is None:
            return _deny('cannot identify client: no authid requested')
        if authid not in self._config.get(table, {}):
            return _deny('no principal with authid "{}" exists'.format(authid))
        self._authid = authid
        principal = self._config[table][authid]
        self._role = principal.get('role')
        return principal


class _Anonymous(_Pending):
    METHOD = 'anonymous'

    def hello(self, hello):
        self._authid = hello.authid or util.generate_serial_number()
        self._role = self._config.get('role', 'anonymous')
        return self._admit(), None, None


class _Ticket(_Pending):
    METHOD = 'ticket'

    def hello(self, hello):
        principal = self._principal('principals', hello.authid)
        if isinstance(principal, message.Abort):
            return None, principal, None
        self._ticket = principal['ticket']
        return self._challenge({})

    def authenticate(self, signature):
        if hmac.compare_digest(signature.encode('utf8'), self._ticket.encode('utf8')):
            return self._admit()
        return _deny('ticket in static WAMP-Ticket authentication is invalid')


class _WampCra(_Pending):
    METHOD = 'wampcra'

    def hello(self, hello):
        user = self._principal('users', hello.authid)
        if isinstance(user, message.Abort):
            return None, user, None
        challenge = json.dumps({
            'authid': self._authid, 'authrole': self._role, 'authmethod': self.METHOD,
            'authprovider': _PROVIDER, 'session': self._session_id, 'nonce': util.newid(64),
            'timestamp': util.utcnow()}, ensure_ascii=False)
        # Crossbar.io keeps the (already derived) secret in "secret" and signs with it.
        self._signature = wamp_auth.compute_wcs(user['secret'].encode('utf8'), challenge.encode('utf8'))
        extra = {'challenge': challenge}
        if 'salt' in user:
            extra.update(salt=user['salt'], iterations=user.get('iterations', 1000), keylen=user.get('keylen', 32))
        return self._challenge(extra)

    def authenticate(self, signature):
        if hmac.compare_digest(signature.encode('utf8'), self._signature):
            return self._admit()
        return _deny('WAMP-CRA signature is invalid')


class _Cryptosign(_Pending):
    METHOD = 'cryptosign'

    def hello(self, hello):
        authextra = hello.authextra or {}
        binding = authextra.get('channel_binding')
        if binding is not None:
            # the test router speaks no TLS, so there is no channel to bind to
            return None, _deny('invalid channel binding type "{}" requested'.format(binding)), None
        pubkey = authextra.get('pubkey')
        if not isinstance(pubkey, str):
            return None, _deny('authextra.pubkey missing'), None
        authid = hello.authid
        if authid is None:
            owners = [a for a, p in self._config.get('principals', {}).items() if pubkey in p['authorized_keys']]
            authid = owners[0] if len(owners) == 1 else None
            if authid is None:
                return None, _deny('cannot identify client: no authid requested and no principal found for '
                                    'provided extra.pubkey'), None
        principal = self._principal('principals', authid)
        if isinstance(principal, message.Abort):
            return None, principal, None
        if pubkey not in principal['authorized_keys']:
            return None, _deny('extra.pubkey provided does not match any one of authorized_keys for the '
                                'principal'), None
        self._key = CryptosignKey.from_pubkey(binascii.a2b_hex(pubkey))
        self._challenge_bytes = os.urandom(32)
        return self._challenge({'challenge': binascii.b2a_hex(self._challenge_bytes).decode('ascii'),
                                'channel_binding': None})

    def authenticate(self, signature):
        try:
            signed = binascii.a2b_hex(signature)
        except (binascii.Error, ValueError):
            return _deny('signed message is invalid (not a HEX encoded string)')
        if len(signed) != 96:
            return _deny('signed message has invalid length (was {}, but should have been 96)'.format(len(signed)))
        try:
            signed_message = self._key._key.verify(signed[64:], signed[:64])
        except BadSignatureError:
            return _deny('signed message has invalid signature')
        if signed_message != self._challenge_bytes:
            return _deny('message signed is bogus')
        return self._admit()


class _Scram(_Pending):
    METHOD = 'scram'

    def hello(self, hello):
        nonce = (hello.authextra or {}).get('nonce')
        if nonce is None:
            return None, _deny('client must send a nonce'), None
        try:
            self._client_nonce = base64.b64decode(nonce, validate=True)
        except (binascii.Error, ValueError):
            return None, _deny('client nonce must be base64'), None
        principal = self._principal('principals', hello.authid)
        if isinstance(principal, message.Abort):
            return None, principal, None
        self._salt = binascii.a2b_hex(principal['salt'])
        self._iterations = principal['iterations']
        self._stored_key = binascii.a2b_hex(principal['stored-key'])
        self._server_key = binascii.a2b_hex(principal['server-key'])
        self._server_nonce = self._client_nonce + os.urandom(16)
        return self._challenge({
            'nonce': base64.b64encode(self._server_nonce).decode('ascii'),
            'kdf': principal['kdf'],
            'salt': base64.b64encode(self._salt).decode('ascii'),
            'iterations': self._iterations,
            'memory': principal['memory'],
        })

    def authenticate(self, signature):
        auth_message = 'n={},r={},r={},s={},i={},c=,r={}'.format(
            saslprep(self._authid), base64.b64encode(self._client_nonce).decode('ascii'),
            base64.b64encode(self._server_nonce).decode('ascii'), base64.b64encode(self._salt).decode('ascii'),
            self._iterations, base64.b64encode(self._server_nonce).decode('ascii')).encode('ascii')
        try:
            client_proof = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return _deny('SCRAM authentication failed')
        client_signature = hmac.new(self._stored_key, auth_message, hashlib.sha256).digest()
        recovered_stored_key = hashlib.sha256(util.xor(client_signature, client_proof)).digest() \
            if len(client_proof) == len(client_signature) else b''
        if not hmac.compare_digest(recovered_stored_key, self._stored_key):
            return _deny('SCRAM authentication failed')
        server_signature = hmac.new(self._server_key, auth_message, hashlib.sha256).digest()
        return self._admit({'scram_server_signature': base64.b64encode(server_signature).decode('ascii')})


_METHODS = {m.METHOD: m for m in (_Anonymous, _Ticket, _WampCra, _Cryptosign, _Scram)}
