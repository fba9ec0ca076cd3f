#!/usr/bin/python3
"""The CLI joins with ticket and cryptosign authentication, credentials from files and the
environment (never the command line), over every router URL in $WAMPBOX_ROUTER_URLS (set by
test/router/with_router; the test router loads test/data/auth/router-auth.json, Crossbar.io
router-config/ holds the same principals). A wrong secret exits with 4 and the router's reason;
options that do not fit together exit with 1 before connecting.

usage: cli_auth_test.py PATH/TO/wampbox
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

EXIT_USAGE = 1
EXIT_JOIN_REFUSED = 4
REPO = pathlib.Path(__file__).resolve().parents[2]
OPENSSH_KEY = REPO / 'test' / 'data' / 'auth' / 'openssh-ed25519.test-only.key'
CROSSBAR_KEY = REPO / 'router-config' / 'cryptosign-user.test-only.key'

WAMPBOX = None
URLS = os.environ.get('WAMPBOX_ROUTER_URLS', '').split()


class CliAuthTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='wampbox-cli-auth-')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def private_file(self, name, content=None, copy_of=None, mode=0o600):
        """A file in the test's directory with `mode` (credentials must be owner-only)."""
        path = os.path.join(self.dir, name)
        if copy_of is not None:
            shutil.copyfile(copy_of, path)
        else:
            with open(path, 'w', encoding='utf8') as f:
                f.write(content)
        os.chmod(path, mode)
        return path

    def wampbox(self, url, *options, env=None):
        """Runs an acknowledged publish with `options`; returns the finished process."""
        return subprocess.run(
            [WAMPBOX, '--url', url, '--timeout', '10'] + list(options) +
            ['publish', 'com.example.cli.auth', '1', '--acknowledge'],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, **(env or {})))

    def test_ticket_from_file_and_environment(self):
        secret_file = self.private_file('ticket', 'change-me-ticket\n')
        for url in URLS:
            with self.subTest(url=url):
                done = self.wampbox(url, '--authmethod', 'ticket', '--authid', 'ticket-user',
                                    '--secret-file', secret_file)
                self.assertEqual(done.returncode, 0, done.stderr)
                done = self.wampbox(url, '--authmethod', 'ticket', '--authid', 'ticket-user',
                                    '--authrole', 'user', '--secret-env', 'WAMPBOX_TICKET',
                                    env={'WAMPBOX_TICKET': 'change-me-ticket'})
                self.assertEqual(done.returncode, 0, done.stderr)

    def test_wrong_ticket_is_refused_with_the_routers_reason(self):
        for url in URLS:
            with self.subTest(url=url):
                done = self.wampbox(url, '--authmethod', 'ticket', '--authid', 'ticket-user',
                                    '--secret-env', 'WAMPBOX_TICKET', env={'WAMPBOX_TICKET': 'wrong'})
                self.assertEqual(done.returncode, EXIT_JOIN_REFUSED, done.stderr)
                self.assertIn('wamp.error.not_authorized: ', done.stderr)
                self.assertNotIn('wrong', done.stderr)

    def test_cryptosign_with_openssh_and_crossbar_key_files(self):
        openssh = self.private_file('id_ed25519', copy_of=OPENSSH_KEY)
        crossbar = self.private_file('client.key', copy_of=CROSSBAR_KEY)
        for url in URLS:
            for key, authid in ((openssh, []), (crossbar, ['--authid', 'cryptosign-user'])):
                with self.subTest(url=url, key=os.path.basename(key)):
                    done = self.wampbox(url, '--authmethod', 'cryptosign', '--private-key', key, *authid)
                    self.assertEqual(done.returncode, 0, done.stderr)

    def test_options_that_do_not_fit_are_usage_errors(self):
        url = 'rs://127.0.0.1:1'  # never reached: the options are refused first
        readable = self.private_file('readable', 'change-me-ticket', mode=0o644)
        cases = {
            'no secret': ['--authmethod', 'ticket', '--authid', 'ticket-user'],
            'two secrets': ['--authmethod', 'ticket', '--secret-env', 'A', '--secret-file', readable],
            'secret without method': ['--secret-env', 'WAMPBOX_TICKET'],
            'cryptosign without key': ['--authmethod', 'cryptosign'],
            'group-readable secret': ['--authmethod', 'ticket', '--authid', 'x', '--secret-file', readable],
            'unset variable': ['--authmethod', 'scram', '--authid', 'x', '--secret-env', 'WAMPBOX_UNSET_VAR'],
            'wampcra without authid': ['--authmethod', 'wampcra', '--secret-env', 'WAMPBOX_TICKET'],
            'unknown method': ['--authmethod', 'password'],
        }
        for name, options in cases.items():
            with self.subTest(case=name):
                done = self.wampbox(url, *options, env={'WAMPBOX_TICKET': 't'})
                self.assertEqual(done.returncode, EXIT_USAGE, done.stderr)

    def test_help_documents_the_options(self):
        done = subprocess.run([WAMPBOX, '--help'], capture_output=True, text=True, timeout=30)
        for option in ('--authmethod', '--authid', '--authrole', '--secret-file', '--secret-env',
                       '--private-key'):
            self.assertIn(option, done.stdout)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    WAMPBOX = sys.argv.pop(1)
    if not URLS:
        print('SKIPPED: no router URLs (run through test/router/with_router)')
        sys.exit(77)
    unittest.main(verbosity=2)
