#!/usr/bin/python3
"""Checks the principals of the authentication suites with Autobahn|Python's own helpers:

- test/data/auth/router-auth.json (what the test router loads) and the "auth" object of every
  transport in router-config/.crossbar/config.json (what Crossbar.io loads) are identical;
- every credential is what Autobahn derives from the test-only secret the tests use (the
  salted WAMP-CRA key with derive_key, the SCRAM stored and server keys as
  autobahn.wamp.auth.derive_scram_credential computes them), and the cryptosign principal
  authorizes the public keys of both test key files.

Exit 77 (meson: skipped) when Autobahn|Python or its SCRAM dependencies are missing.
"""
import base64
import binascii
import hashlib
import hmac
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[3]
try:
    from autobahn.wamp import auth
    from autobahn.wamp.cryptosign import CryptosignKey
except ImportError:
    print('skipped: /usr/bin/python3 has no autobahn (Debian package python3-autobahn)')
    sys.exit(77)
if not auth.HAS_ARGON:
    print('skipped: no argon2/passlib for Autobahn (Debian packages python3-argon2 python3-passlib)')
    sys.exit(77)

# the test-only secrets of the principals (test/integration/auth_test.cpp uses the same)
SALTED_CRA = ('cra-salted-user', 'change-me-salted-secret')
SCRAM_PASSWORD = 'change-me-password'


def scram_keys(principal):
    salt = binascii.a2b_hex(principal['salt'])
    if principal['kdf'] == 'argon2id-13':
        salted = auth._hash_argon2id13_secret(SCRAM_PASSWORD.encode(), base64.b64encode(salt),
                                              principal['iterations'], principal['memory'])
    else:
        salted = auth.pbkdf2(SCRAM_PASSWORD.encode(), salt, principal['iterations'], 32)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    return (hashlib.sha256(client_key).hexdigest(),
            hmac.new(salted, b'Server Key', hashlib.sha256).hexdigest())


def main():
    ours = json.loads((REPO / 'test' / 'data' / 'auth' / 'router-auth.json').read_text())
    crossbar = json.loads((REPO / 'router-config' / '.crossbar' / 'config.json').read_text())
    problems = []
    for n, transport in enumerate(crossbar['workers'][0]['transports']):
        if transport.get('auth') != ours:
            problems.append('transport {} of router-config differs from router-auth.json'.format(n))

    authid, secret = SALTED_CRA
    user = ours['wampcra']['users'][authid]
    if auth.derive_key(secret, user['salt'], user['iterations'], user['keylen']).decode() != user['secret']:
        problems.append('{}: secret is not derive_key of its test secret'.format(authid))
    # Autobahn's derive_scram_credential with the principal's salt must give the same keys
    # (it fixes 4096 passes, so it checks the formula on a copy of the principal).
    reference = auth.derive_scram_credential('', SCRAM_PASSWORD, salt=b'wampbox-scram-01')
    if scram_keys(dict(reference, iterations=4096, memory=512)) != (reference['stored-key'],
                                                                   reference['server-key']):
        problems.append('SCRAM key formula differs from derive_scram_credential')
    for authid, principal in ours['scram']['principals'].items():
        if scram_keys(principal) != (principal['stored-key'], principal['server-key']):
            problems.append('{}: stored/server key do not match its test password'.format(authid))

    keys = {CryptosignKey.from_keyfile(str(REPO / 'router-config' / 'cryptosign-user.test-only.key')).public_key(),
            CryptosignKey.from_ssh_file(str(REPO / 'test' / 'data' / 'auth' / 'openssh-ed25519.test-only.key')).public_key()}
    if set(ours['cryptosign']['principals']['cryptosign-user']['authorized_keys']) != keys:
        problems.append('cryptosign-user does not authorize exactly the two test keys')

    for p in problems:
        print(p)
    if problems:
        return 1
    print('principals: router-auth.json and router-config agree; credentials match Autobahn')
    return 0


if __name__ == '__main__':
    sys.exit(main())
