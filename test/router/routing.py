"""Helpers shared by the test router's broker, dealer and sessions."""

from autobahn.wamp.message import _URI_PAT_LOOSE_EMPTY, _URI_PAT_LOOSE_LAST_EMPTY, _URI_PAT_LOOSE_NON_EMPTY


# not among autobahn's ApplicationError constants in 22.7.1
PROTOCOL_VIOLATION = 'wamp.error.protocol_violation'


# URIs of the WAMP meta API: Crossbar.io lets no client session publish or register under them
RESERVED_PREFIX = 'wamp.'


def is_reserved(uri):
    """True for a topic or procedure URI reserved to the router (Crossbar.io: "restricted")."""
    return uri.startswith(RESERVED_PREFIX)


# Crossbar.io's default ("loose") URI check of a subscription or registration, by match policy:
# empty components only where the policy gives them a meaning
_LOOSE_PATTERNS = {'wildcard': _URI_PAT_LOOSE_EMPTY, 'prefix': _URI_PAT_LOOSE_LAST_EMPTY}


def is_valid_pattern(uri, match):
    """True if Crossbar.io accepts `uri` under `match` (Autobahn's parser lets SUBSCRIBE through with
    empty components whatever the policy; Crossbar.io then refuses them for exact and prefix)."""
    return _LOOSE_PATTERNS.get(match, _URI_PAT_LOOSE_NON_EMPTY).match(uri) is not None


class ProtocolViolation(Exception):
    """A peer broke the WAMP protocol; its session is aborted with wamp.error.protocol_violation."""


def transparent_payload(msg):
    """Keyword arguments that carry a message's application data on unchanged.

    Like Crossbar.io: a transparent (e.g. encrypted) payload travels bare together
    with its enc_* keys; otherwise args/kwargs are copied.
    """
    if msg.payload is not None:
        return dict(payload=msg.payload, enc_algo=msg.enc_algo, enc_key=msg.enc_key,
                    enc_serializer=msg.enc_serializer)
    return dict(args=msg.args, kwargs=msg.kwargs)
