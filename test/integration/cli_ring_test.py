"""`wampbox ring`: secure-mode key rings made and edited by the CLI (no router needed).

    python3 cli_ring_test.py PATH/TO/wampbox [unittest options]

Every file is mode 0600; no secret is printed except by `show --secrets`; identities, keys,
trusted senders, rotation and retirement, passphrase rings (a wrong passphrase fails cleanly), and
refusals (an existing file, a cryptobox prefix, an unknown key id, a group-readable ring).
"""

import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

WAMPBOX = None
TIMEOUT = 60
PREFIX = 'com.example.sensors'
# the cheapest Argon2id cost libsodium allows, so the test stays fast
CHEAP = ['--opslimit', '1', '--memlimit', '8192']


def read_text(path):
    with open(path, encoding='utf-8') as stream:
        return stream.read()


def ring(*arguments, passphrase=None):
    env = dict(os.environ)
    env.pop('WAMPBOX_PASSPHRASE', None)
    if passphrase is not None:
        env['WAMPBOX_PASSPHRASE'] = passphrase
    return subprocess.run([WAMPBOX, 'ring'] + list(arguments), capture_output=True, text=True,
                          timeout=TIMEOUT, env=env)


class RingCommandTests(unittest.TestCase):

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory(prefix='wampbox-ring-')
        self.addCleanup(self._dir.cleanup)

    def path(self, name):
        return os.path.join(self._dir.name, name)

    def ok(self, *arguments, passphrase=None):
        done = ring(*arguments, passphrase=passphrase)
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    def refused(self, *arguments, passphrase=None):
        done = ring(*arguments, passphrase=passphrase)
        self.assertNotEqual(done.returncode, 0, done.stdout)
        self.assertTrue(done.stderr.startswith('wampbox ring: '), done.stderr)
        return done.stderr

    def secrets_of(self, path):
        with open(path, encoding='utf-8') as stream:
            doc = json.load(stream)
        found = [doc['identity']['seed']]
        for spec in doc['prefixes'].values():
            found += [k['key'] for k in spec.get('keys', []) if 'key' in k]
        return found

    def test_identities_keys_senders_rotation_and_retirement(self):
        pub, sub = self.path('pub.json'), self.path('sub.json')
        identity = self.ok('init', pub, '--name', 'sensor-1')
        self.assertEqual(set(identity), {'name', 'public_key'})
        self.ok('init', sub, '--name', 'dashboard')
        self.assertEqual(self.ok('identity', pub), identity)
        first = self.ok('add-key', pub, PREFIX)['added']
        self.assertRegex(first[0], '^[0-9a-f]{16}$')
        self.assertEqual(self.ok('add-key', sub, PREFIX, '--import-from', pub)['added'], first)
        self.assertEqual(self.ok('add-key', sub, PREFIX, '--import-from', pub)['added'], [])  # once only
        trusted = self.ok('trust', sub, PREFIX, 'sensor-1', identity['public_key'], '--role', 'publish')
        self.assertEqual(trusted['roles'], ['publish'])
        self.ok('trust', sub, PREFIX, 'sensor-1', identity['public_key'], '--role', 'call')
        second = self.ok('rotate', pub, PREFIX, '--valid-in', '600')['added']
        self.assertNotEqual(second, first)
        retired = self.ok('retire', pub, PREFIX, first[0], '--in', '3600')
        self.assertEqual(retired['retired'], first[0])

        for path in (pub, sub):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertFalse(os.path.exists(path + '.new'))
        shown = ring('show', pub)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        for secret in self.secrets_of(pub):
            self.assertNotIn(secret, shown.stdout)
        doc = json.loads(shown.stdout)
        keys = doc['prefixes'][PREFIX]['keys']
        self.assertEqual([k['key_id'] for k in keys], first + second)
        self.assertIn('retire_at', keys[0])
        self.assertGreater(keys[1]['valid_from'], keys[0]['valid_from'])
        self.assertEqual(json.loads(ring('show', sub).stdout)['prefixes'][PREFIX]['senders'],
                         {'sensor-1': ['publish', 'call']})
        with_secrets = ring('show', pub, '--secrets').stdout
        for secret in self.secrets_of(pub):
            self.assertIn(secret, with_secrets)
        # nothing else printed a secret either
        for secret in self.secrets_of(pub) + self.secrets_of(sub):
            for output in (json.dumps(identity), json.dumps(trusted), json.dumps(retired)):
                self.assertNotIn(secret, output)

    def test_passphrase_rings(self):
        a, b, c = self.path('a.json'), self.path('b.json'), self.path('c.json')
        self.ok('init', a, '--name', 'a', '--passphrase', *CHEAP, passphrase='correct horse')
        # the same salt on another peer: copy the public part of a's ring
        with open(a, encoding='utf-8') as stream:
            salt = json.load(stream)['passphrase']
        self.ok('init', b, '--name', 'b', passphrase='x')  # no passphrase section yet
        with open(b, encoding='utf-8') as stream:
            doc_b = json.load(stream)
        doc_b['passphrase'] = salt
        os.unlink(b)
        with os.fdopen(os.open(b, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as stream:
            json.dump(doc_b, stream)
        id_a = self.ok('add-key', a, PREFIX, '--derive', '1', passphrase='correct horse')['added']
        id_b = self.ok('add-key', b, PREFIX, '--derive', '1', passphrase='correct horse')['added']
        self.assertEqual(id_a, id_b)
        self.assertNotIn('"key"', read_text(a))  # derived keys are not stored
        error = self.refused('show', a, passphrase='wrong horse')
        self.assertIn('passphrase does not match', error)
        self.assertNotIn('wrong horse', error)
        self.assertIn('none was given', self.refused('show', a))
        self.assertIn('WAMPBOX_PASSPHRASE',
                      self.refused('init', c, '--name', 'c', '--passphrase', *CHEAP))
        self.assertFalse(os.path.exists(c))

    def test_refusals(self):
        pub = self.path('pub.json')
        self.ok('init', pub, '--name', 'p')
        before = read_text(pub)
        self.assertIn('File exists', self.refused('init', pub, '--name', 'q'))
        self.assertEqual(read_text(pub), before)  # never overwritten
        self.assertIn('has no keys yet', self.refused('trust', pub, PREFIX, 'x', 'AAAA', '--role', 'call'))
        self.ok('add-key', pub, PREFIX)
        self.assertIn('would not load',
                      self.refused('trust', pub, PREFIX, 'x', 'not-a-key', '--role', 'call'))
        self.assertIn('has no key', self.refused('retire', pub, PREFIX, '0123456789abcdef'))
        cryptobox = self.path('cryptobox.json')
        done = subprocess.run([WAMPBOX, 'keygen', '--shared', 'com.', '--out', cryptobox], capture_output=True,
                              text=True, timeout=TIMEOUT)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('cryptobox ring', self.refused('add-key', cryptobox, PREFIX))
        os.chmod(pub, 0o640)
        self.assertIn('chmod 600', self.refused('show', pub))


def main():
    global WAMPBOX
    if len(sys.argv) < 2:
        sys.exit('usage: cli_ring_test.py PATH/TO/wampbox [unittest options]')
    WAMPBOX = os.path.abspath(sys.argv[1])
    program = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == '__main__':
    main()
