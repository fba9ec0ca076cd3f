"""Helpers shared by the test router's broker, dealer and sessions."""


# not among autobahn's ApplicationError constants in 22.7.1
PROTOCOL_VIOLATION = 'wamp.error.protocol_violation'


# URIs of the WAMP meta API: Crossbar.io lets no client session publish or register under them
RESERVED_PREFIX = 'wamp.'


def is_reserved(uri):
    """True for a topic or procedure URI reserved to the router (Crossbar.io: "restricted")."""
    return uri.startswith(RESERVED_PREFIX)


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
