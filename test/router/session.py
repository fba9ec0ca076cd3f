"""Router side of one WAMP connection, and the realm it joins."""

import itertools

from autobahn.util import generate_serial_number
from autobahn.wamp import message, role
from autobahn.wamp.exception import ApplicationError, TransportLost

from broker import Broker
from dealer import Dealer
from ids import new_id
from meta import SessionMetaApi
from routing import PROTOCOL_VIOLATION, ProtocolViolation
from serializers import disclose_me_requested

# the features Crossbar.io announces that this router implements
_BROKER_FEATURES = role.RoleBrokerFeatures(
    publisher_identification=True, pattern_based_subscription=True, subscriber_blackwhite_listing=True,
    publisher_exclusion=True, payload_transparency=True, payload_encryption_cryptobox=True)
_DEALER_FEATURES = role.RoleDealerFeatures(
    caller_identification=True, pattern_based_registration=True, shared_registration=False, session_meta_api=True,
    call_canceling=True, progressive_call_results=True, payload_transparency=True,
    payload_encryption_cryptobox=True)

_connection_numbers = itertools.count(1)


class Realm:
    """A realm: its broker, dealer and joined sessions."""

    def __init__(self, name, disclose_all, authenticator):
        self.name = name
        self.authenticator = authenticator
        self.broker = Broker(disclose_all)
        self.dealer = Dealer(disclose_all)
        self.sessions = {}
        self.meta = SessionMetaApi(self)

    def new_session_id(self):
        """A random session id no session of the realm has."""
        # the meta API's service session id is taken too (Crossbar.io: a session of the realm)
        return new_id(self.sessions.keys() | {self.meta.session_id})

    def join(self, session):
        """Admit a session under its session id."""
        self.sessions[session.session_id] = session

    def leave(self, session):
        """Remove a session and everything it had (subscriptions, registrations, calls)."""
        del self.sessions[session.session_id]
        self.broker.detach(session)
        self.dealer.detach(session)

    def shutdown(self):
        """Tell every session that the router goes down, and close their transports."""
        for session in list(self.sessions.values()):
            session.end(message.Goodbye(reason='wamp.close.system_shutdown'))


class RouterSession:
    """An autobahn ITransportHandler: receives parsed messages from one transport.

    Before HELLO and after GOODBYE the connection has no session; a new HELLO on
    the same transport opens a new one, as the WAMP spec allows.
    """

    def __init__(self, realm, message_log):
        self._realm = realm
        self._log = message_log
        self._connection = next(_connection_numbers)
        self.transport = None
        self.roles = {}
        self.session_id = None
        self.authid = None
        self.authrole = None
        self.authmethod = None
        self.authprovider = None
        self._pending_auth = None  # the authentication a CHALLENGE started
        self._pending_session_id = None  # the session id it will get

    # Autobahn's WebSocket transport reads these two for its trace logging.
    @property
    def _session_id(self):
        return self.session_id

    @property
    def _authid(self):
        return self.authid

    def label(self):
        """Short text naming the connection and session, for logs."""
        return 'conn#{} session={}'.format(self._connection, self.session_id or '-')

    def onOpen(self, transport):
        """ITransportHandler: the transport is connected."""
        self.transport = transport

    def onClose(self, wasClean):
        """ITransportHandler: the transport is gone; the session (if any) leaves the realm."""
        if self.session_id is not None:
            self._realm.leave(self)
            self.session_id = None
        self.transport = None

    def send(self, msg):
        """Send a message to this peer; silently dropped if the peer is already gone."""
        if self.transport is None or not self.transport.isOpen():
            return
        self._log.log('tx', self, msg)
        self.transport.send(msg)

    def end(self, msg=None):
        """Send a final ABORT or GOODBYE (if given), leave the realm and close the transport."""
        if msg is not None:
            self.send(msg)
        if self.session_id is not None:
            self._realm.leave(self)
            self.session_id = None
        try:
            self.transport.close()
        except (TransportLost, AttributeError):
            pass  # already closed or never opened

    def onMessage(self, msg):
        """ITransportHandler: one parsed message from the peer."""
        self._log.log('rx', self, msg)
        try:
            if self.session_id is None:
                self._on_message_unjoined(msg)
            else:
                self._on_message_joined(msg)
        except ProtocolViolation as violation:
            self.end(message.Abort(PROTOCOL_VIOLATION, str(violation)))

    def _on_message_unjoined(self, msg):
        if isinstance(msg, message.Authenticate) and self._pending_auth is not None:
            pending, self._pending_auth = self._pending_auth, None
            outcome = pending.authenticate(msg.signature)
            if isinstance(outcome, message.Abort):
                self.send(outcome)
            else:
                self._welcome(outcome, self._pending_session_id)
            return
        if not isinstance(msg, message.Hello):
            raise ProtocolViolation('{} received before HELLO'.format(type(msg).__name__.upper()))
        if msg.realm != self._realm.name:
            self.send(message.Abort(ApplicationError.NO_SUCH_REALM, "no realm '{}' on this router".format(msg.realm)))
            return
        self.roles = msg.roles
        # like Crossbar.io, the WAMP-CRA challenge names the session id the client will get
        session_id = self._realm.new_session_id()
        admission, reply, self._pending_auth = self._realm.authenticator.hello(msg, session_id)
        if admission is not None:
            self._welcome(admission, session_id)
        else:
            self._pending_session_id = session_id
            self.send(reply)

    def _welcome(self, admission, session_id):
        self.session_id = session_id
        self.authid = admission.authid
        self.authrole = admission.authrole
        self.authmethod = admission.authmethod
        self.authprovider = admission.authprovider
        self._realm.join(self)
        self.send(message.Welcome(self.session_id, {'broker': _BROKER_FEATURES, 'dealer': _DEALER_FEATURES},
                                  realm=self._realm.name, authid=self.authid, authrole=self.authrole,
                                  authmethod=self.authmethod, authprovider=self.authprovider,
                                  authextra=admission.authextra))

    def _on_message_joined(self, msg):
        broker, dealer = self._realm.broker, self._realm.dealer
        if isinstance(msg, message.Goodbye):
            self.send(message.Goodbye(reason='wamp.close.goodbye_and_out'))
            self._realm.leave(self)
            self.session_id = None
        elif isinstance(msg, message.Abort):
            self.end()
        elif isinstance(msg, message.Publish):
            broker.publish(self, msg, disclose_me_requested(msg))
        elif isinstance(msg, message.Subscribe):
            broker.subscribe(self, msg)
        elif isinstance(msg, message.Unsubscribe):
            broker.unsubscribe(self, msg)
        elif isinstance(msg, message.Call) and self._realm.meta.handles(msg.procedure):
            self._realm.meta.call(self, msg)
        elif isinstance(msg, message.Call):
            dealer.call(self, msg, disclose_me_requested(msg))
        elif isinstance(msg, message.Cancel):
            dealer.cancel(self, msg)
        elif isinstance(msg, message.Register):
            dealer.register(self, msg)
        elif isinstance(msg, message.Unregister):
            dealer.unregister(self, msg)
        elif isinstance(msg, message.Yield):
            dealer.yield_(self, msg)
        elif isinstance(msg, message.Error) and msg.request_type == message.Invocation.MESSAGE_TYPE:
            dealer.invocation_error(self, msg)
        else:
            raise ProtocolViolation('{} is not a message a router accepts here'.format(type(msg).__name__.upper()))
