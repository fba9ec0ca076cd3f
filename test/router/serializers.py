"""The test router's WAMP serializers: Autobahn|Python's own, as Crossbar.io uses them.

Autobahn's parser drops option keys it does not know; the one extra the router
needs is PUBLISH/CALL `disclose_me`, which is kept in the message's
`_router_internal` slot (a slot Autobahn reserves for router-side data).
"""

from autobahn.wamp import message
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer


def _keeping_disclose_me(klass):
    """A parser for `klass` (Publish or Call) that also records Options.disclose_me."""

    class _Parser:
        @staticmethod
        def parse(wmsg):
            msg = klass.parse(wmsg)
            # Autobahn has validated wmsg[2] as the Options dict by now
            msg._router_internal = {'disclose_me': wmsg[2].get('disclose_me') is True}
            return msg

    return _Parser


def disclose_me_requested(msg):
    """True if the PUBLISH/CALL asked the router to disclose the sender's identity."""
    return bool(msg._router_internal and msg._router_internal.get('disclose_me'))


def router_serializers():
    """New JSON, MsgPack and CBOR serializers (unbatched) for the router's listeners."""
    serializers = [JsonSerializer(), MsgPackSerializer(), CBORSerializer()]
    for serializer in serializers:
        type_map = dict(serializer.MESSAGE_TYPE_MAP)
        for klass in (message.Publish, message.Call):
            type_map[klass.MESSAGE_TYPE] = _keeping_disclose_me(klass)
        # an instance attribute shadows the class-wide table for this serializer only
        serializer.MESSAGE_TYPE_MAP = type_map
    return serializers
