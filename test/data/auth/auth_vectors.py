#!/usr/bin/python3
"""Prints deterministic WAMP authentication vectors computed by Autobahn|Python's own code, one
JSON object per line (the C++ unit tests read auth_vectors.out.txt; check_vectors.py regenerates
and compares it):

  wampcra_signature  autobahn.wamp.auth.compute_wcs(key, challenge)
  wampcra_derive_key autobahn.wamp.auth.derive_key(secret, salt, iterations, keylen)
  scram              autobahn.wamp.auth.AuthScram.on_challenge/on_welcome with a fixed client
                     nonce; also the salted password (_hash_argon2id13_secret / pbkdf2)
  cryptosign         autobahn.wamp.cryptosign.CryptosignKey.sign_challenge, without and with a
                     tls-unique channel id (SHA-256 of the TLS Finished data, as Autobahn's
                     transport_channel_id computes it)
  openssh            CryptosignKey.from_ssh_file of the OpenSSH key beside this script

Autobahn 22.7.1's AuthScram cannot do PBKDF2 at all: it hands the challenge's Base64 salt text
to pbkdf2(), which accepts only bytes. Its own test (test_pbkdf2_static) feeds pbkdf2 the raw
salt, and the WAMP spec names the salt's bytes; the PBKDF2 vectors therefore decode the salt
before Autobahn's _hash_pbkdf2_secret, and everything else is AuthScram's code unchanged.
"""
import base64
import binascii
import hashlib
import hmac
import json
import pathlib
import sys
from unittest.mock import Mock

import txaio
txaio.use_twisted()


from autobahn.wamp import auth, types  # noqa: E402 (txaio must pick Twisted first)
from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def emit(kind, **fields):
    print(json.dumps(dict(kind=kind, **fields), sort_keys=True, ensure_ascii=False))


def wampcra():
    challenge = json.dumps({'authid': 'cra-user', 'authrole': 'user', 'authmethod': 'wampcra',
                            'authprovider': 'static', 'session': 4711, 'nonce': 'wampbox',
                            'timestamp': '2024-01-01T00:00:00.000Z'})
    for key in ['change-me-secret', 'L3L1YUE8Txlw', 'k\u00e9y \u2603']:
        emit('wampcra_signature', key=key, challenge=challenge,
             signature=auth.compute_wcs(key.encode('utf8'), challenge.encode('utf8')).decode('ascii'))
    for secret, salt, iterations, keylen in [('change-me-salted-secret', 'wampbox-cra-salt', 1000, 32),
                                             ('L3L1YUE8Txlw', 'salt123', 1000, 32),
                                             ('secret', 'salt', 1, 16),
                                             ('secret', 'salt', 100, 64)]:
        key = auth.derive_key(secret, salt, iterations, keylen).decode('ascii')
        emit('wampcra_derive_key', secret=secret, salt=salt, iterations=iterations, keylen=keylen, key=key,
             signature=auth.compute_wcs(key.encode('ascii'), challenge.encode('utf8')).decode('ascii'),
             challenge=challenge)


def scram():
    pbkdf2_original = auth._hash_pbkdf2_secret

    def pbkdf2_of_salt_bytes(password, salt, iterations):
        return pbkdf2_original(password, base64.b64decode(salt), iterations)

    auth._hash_pbkdf2_secret = pbkdf2_of_salt_bytes
    cases = [('scram-user', 'change-me-password', 'argon2id-13', b'wampbox-scram-01', 64, 512),
             ('scram-pbkdf2-user', 'change-me-password', 'pbkdf2', b'wampbox-scram-02', 4096, 0),
             ('alice', 'p\u00e4ssw\u00f6rd', 'argon2id-13', b'1234567890abcdef', 3, 64),
             ('bob', 'hunter2', 'pbkdf2', b'\x00\x01\x02\x03\x04\x05\x06\x07', 1, 0)]
    for authid, password, kdf, salt, iterations, memory in cases:
        client = auth.AuthScram(authid=authid, password=password)
        client._client_nonce = base64.b64encode(hashlib.sha256(authid.encode()).digest()[:16]).decode('ascii')
        server_nonce = base64.b64encode(base64.b64decode(client._client_nonce) +
                                        hashlib.sha256(password.encode()).digest()[:16]).decode('ascii')
        extra = {'nonce': server_nonce, 'kdf': kdf, 'salt': base64.b64encode(salt).decode('ascii'),
                 'iterations': iterations, 'memory': memory}
        proof = client.on_challenge(Mock(), types.Challenge('scram', extra)).decode('ascii')
        server_key = hmac.new(client._salted_password, b'Server Key', hashlib.sha256).digest()
        server_signature = base64.b64encode(hmac.new(server_key, client._auth_message, hashlib.sha256).digest())
        if client.on_welcome(Mock(), {'scram_server_signature': server_signature}) is not None:
            sys.exit('Autobahn refused its own server signature')
        emit('scram', authid=authid, password=password, client_nonce=client._client_nonce, challenge=extra,
             salted_password_hex=binascii.b2a_hex(client._salted_password).decode('ascii'),
             auth_message=client._auth_message.decode('ascii'), client_proof=proof,
             server_signature=server_signature.decode('ascii'))
    auth._hash_pbkdf2_secret = pbkdf2_original


def resolved(deferred):
    """The value of an already resolved txaio future."""
    out = []
    txaio.add_callbacks(deferred, out.append, None)
    return out[0]


def cryptosign():
    tls_unique = b'wampbox tls-unique test data'
    channel_id = hashlib.sha256(tls_unique).digest()
    for seed_hex in ['51b8da9164a00b6a1808b6ee2bd065effca69184dd78de1b1cb3e50a5aadd198',
                     '4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510']:
        key = CryptosignKey.from_bytes(binascii.a2b_hex(seed_hex))
        for challenge_hex in ['ff' * 32, hashlib.sha256(seed_hex.encode()).hexdigest()]:
            challenge = types.Challenge('cryptosign', {'challenge': challenge_hex})
            plain = resolved(key.sign_challenge(challenge))
            bound = resolved(key.sign_challenge(challenge, channel_id=channel_id, channel_id_type='tls-unique'))
            emit('cryptosign', seed=seed_hex, public_key=key.public_key(), challenge=challenge_hex,
                 signature=plain, tls_unique_hex=binascii.b2a_hex(tls_unique).decode('ascii'),
                 channel_id=binascii.b2a_hex(channel_id).decode('ascii'), bound_signature=bound)


def openssh():
    path = HERE / 'openssh-ed25519.test-only.key'
    key = CryptosignKey.from_ssh_file(str(path))
    emit('openssh', file=path.name, seed=key._key.encode().hex(), public_key=key.public_key(),
         comment=key.comment)


if __name__ == '__main__':
    wampcra()
    scram()
    cryptosign()
    openssh()
