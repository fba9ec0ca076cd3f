#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses into corpus/<harness>/seed-*.

Message seeds come from the WAMP conformance samples (../../../shared/wamp-testsuite, the same
source as test/unit/wire/conformance_test.cpp) plus a few edge cases; the codec seeds are real
cryptobox payloads under the docs/payload-encryption.md §1.5 vector keys. Regression files
(regress-*) are written by hand from fuzzer findings and are left alone.
Usage: /usr/bin/python3 test/fuzz/make_seeds.py [path/to/wamp-testsuite]
"""
import base64
import glob
import json
import os
import struct
import sys

import nacl.bindings as sodium

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', '..', 'shared',
                                                            'wamp-testsuite')
ORIGINATOR_PRIV = base64.b64decode('AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=')
RESPONDER_PRIV = base64.b64decode('ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=')
URI = 'com.example.topic'
CID = '0123456789abcdef0123456789abcdef'
NOW_MS = 1767225600000  # the wall clock of fuzz_codec_plaintext.cpp


def write(harness, name, data):
    folder = os.path.join(HERE, 'corpus', harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'seed-' + name), 'wb') as f:
        f.write(data)


def message_seeds():
    count = {'json': 0, 'msgpack': 0, 'cbor': 0}
    for path in sorted(glob.glob(os.path.join(SUITE, 'singlemessage', '**', '*.json'), recursive=True)):
        with open(path) as f:
            doc = json.load(f)
        stem = os.path.splitext(os.path.basename(path))[0]
        for i, sample in enumerate(doc.get('samples', [])):
            for ser in count:
                for j, enc in enumerate(sample.get('serializers', {}).get(ser, [])):
                    write('parse_' + ser, '%s-%d-%d' % (stem, i, j), bytes.fromhex(enc['bytes_hex']))
                    count[ser] += 1
    extra = {
        'binary': b'[36,1,2,{},["\\u0000AQID",""]]',
        'nested': b'[48,1,{},"p",[[[[{"a":[1.5,-2,true,null]}]]]],{"k":{"x":"\xc3\xa9"}}]',
        'transparent': b'[16,1,{"enc_algo":"cryptobox","enc_serializer":"json"},"t","\\u0000AAAA"]',
    }
    for name, data in extra.items():
        write('parse_json', 'extra-' + name, data)
    if SUITE and not any(count.values()):
        sys.exit('no conformance samples under ' + SUITE)


def frame(kind, payload):
    return struct.pack('>BBH', kind, len(payload) >> 16, len(payload) & 0xFFFF) + payload


def rawsocket_seeds():
    ok = bytes([0x7F, 0xF1, 0, 0])
    write('rawsocket', 'message', ok + frame(0, b'[2,1,{}]'))
    write('rawsocket', 'ping-pong', ok + frame(1, b'hi') + frame(2, b'late') + frame(1, b'') + frame(0, b'[]'))
    write('rawsocket', 'many-pings', ok + b''.join(frame(1, b'p%d' % i) for i in range(50)))
    write('rawsocket', 'oversize', ok + frame(0, b'x' * 1001))
    write('rawsocket', 'bad-type', ok + frame(3, b'') + frame(0, b'[]'))
    write('rawsocket', 'refused', bytes([0x7F, 0x10, 0, 0]))
    write('rawsocket', 'wrong-serializer', bytes([0x7F, 0xF2, 0, 0]) + frame(0, b'[]'))
    write('rawsocket', 'truncated', ok + frame(0, b'abcdef')[:7])


def box(plaintext, nonce_byte):
    k = sodium.crypto_box_beforenm(sodium.crypto_scalarmult_base(RESPONDER_PRIV), ORIGINATOR_PRIV)
    nonce = bytes((nonce_byte + i) & 0xFF for i in range(24))
    return nonce + sodium.crypto_box_afternm(plaintext, nonce, k)


def codec_seeds():
    # control byte: bits 0-1 the kind (event, invocation, result, result_error), then the
    # harness's option bits (see the two fuzz_codec_*.cpp files).
    inner = {
        'event': (0, {'uri': URI, 'args': [1, 'x', '\u0000QQ=='], 'kwargs': {'a': 1.5},
                      'wbx': {'t': 'publish', 'ts': NOW_MS}}),
        'event-autobahn': (0, {'uri': URI, 'args': [23], 'kwargs': None}),
        'invocation': (1, {'uri': URI, 'args': [2, 3], 'kwargs': None, 'wbx': {'t': 'call', 'cid': CID}}),
        'result': (2 | 16, {'uri': URI, 'args': [5], 'kwargs': {}, 'wbx': {'t': 'yield', 'cid': CID}}),
        'result-error': (3 | 16, {'uri': URI, 'args': ['no'], 'kwargs': None, 'wbx': {'t': 'error', 'cid': CID}}),
        'stale': (0, {'uri': URI, 'args': [], 'kwargs': None, 'wbx': {'t': 'publish', 'ts': 1}}),
        'other-uri': (0, {'uri': 'com.example.other', 'args': [], 'kwargs': None}),
    }
    for name, (control, doc) in inner.items():
        text = json.dumps(doc, separators=(',', ':'), ensure_ascii=False).encode()
        write('codec_plaintext', name, bytes([control]) + text)
        write('codec_ciphertext', name, bytes([control & 0xC3 | (control & 16) << 2]) + box(text, control))
    write('codec_plaintext', 'not-json', bytes([0]) + b'{"uri":')
    write('codec_ciphertext', 'short', bytes([0]) + b'\x01' * 39)


def secure_seeds():
    # control byte of fuzz_codec_secure.cpp: bits 0-1 the kind, 2 progress, 3 unlisted signer,
    # 4 another call binding, 5 stale time, 6-7 sequence; then the inner MessagePack
    args_kwargs = b'\x92\x92\x01\xa3two\x81\xa1k\xa1v'  # [[1, "two"], {"k": "v"}]
    seeds = {
        'event': (0, args_kwargs),
        'invocation': (1, args_kwargs),
        'result': (2, args_kwargs),
        'result-progress': (2 | 4, b'\x92\xc0\xc0'),  # [nil, nil]
        'result-error': (3, args_kwargs),
        'outsider': (8, args_kwargs),
        'other-call': (2 | 16, args_kwargs),
        'stale': (32, args_kwargs),
        'not-msgpack': (0, b'\xc1'),
        'not-args-kwargs': (0, b'\x93\x01\x02\x03'),
    }
    for name, (control, inner) in seeds.items():
        write('codec_secure', name, bytes([control]) + inner)


message_seeds()
rawsocket_seeds()
codec_seeds()
secure_seeds()
