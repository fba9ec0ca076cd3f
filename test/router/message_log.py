"""--log-messages: one stderr line per WAMP message the router receives or sends.

The point is to show what the router can see: an encrypted payload is shown only
as its size and first bytes, never interpreted.
"""

import json
import sys

# how many leading bytes of a binary value are shown in hex
_HEX_PREVIEW = 16


def _binary(data, label):
    preview = data[:_HEX_PREVIEW].hex() + ('...' if len(data) > _HEX_PREVIEW else '')
    return '<{} bytes {}: {}>'.format(len(data), label, preview)


def _render(value):
    """JSON-like text of a marshalled value, with bytes as a short hex placeholder."""
    if isinstance(value, bytes):
        return _binary(value, 'binary')
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_render(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join('{}: {}'.format(json.dumps(k, ensure_ascii=False), _render(v))
                               for k, v in value.items()) + '}'
    return json.dumps(value, ensure_ascii=False, default=str)


def format_message(msg):
    """One-line rendering of a WAMP message: type name and its marshalled fields."""
    fields = msg.marshal()
    # a bytes field at message level is the transparent payload: ciphertext if enc_algo says so
    payload_label = 'ciphertext' if getattr(msg, 'enc_algo', None) else 'binary'
    parts = [_binary(f, payload_label) if isinstance(f, bytes) else _render(f) for f in fields]
    return '{} [{}]'.format(type(msg).__name__.upper(), ', '.join(parts))


class MessageLog:
    """Writes message lines when enabled; a no-op otherwise."""

    def __init__(self, enabled, stream=sys.stderr):
        self._enabled = enabled
        self._stream = stream

    def log(self, direction, session, msg):
        """direction: 'rx' (router received) or 'tx' (router sent)."""
        if not self._enabled:
            return
        arrow = '<-' if direction == 'rx' else '->'
        self._stream.write('router {} {} {}\n'.format(arrow, session.label(), format_message(msg)))
        self._stream.flush()
