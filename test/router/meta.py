"""The meta procedures of the test router, answered as Crossbar.io's realm service session does.

Crossbar.io implements the WAMP meta API in a router-internal session (authrole "trusted") that
registers wamp.session.count/list/get, wamp.subscription.list/lookup/match/get/list_subscribers/
count_subscribers and wamp.registration.list/lookup/match/get/list_callees/count_callees like any
callee. Here the router answers such a CALL itself, with the messages that service session would send:
  * RESULT [count] / [[session ids]] / [session details], disclosing the service session as the
    callee (Crossbar.io's dealer discloses every callee in RESULT);
  * ERROR wamp.error.no_such_session / no_such_subscription / no_such_registration for an unknown id;
  * ERROR wamp.error.runtime_error for arguments the procedure cannot take (what Autobahn|Python
    answers when the procedure raises an exception that is not an ApplicationError);
  * ERROR wamp.error.no_payload_codec for an encrypted CALL (the service session holds no keys).
"""

from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SessionDetails

from ids import new_id
from routing import is_reserved
from uri_map import MATCH_EXACT, MATCH_PREFIX, MATCH_WILDCARD

# the service session's identity in a Crossbar.io node started from router-config/ (one router
# worker, one realm: Crossbar.io numbers them worker001 and realm001)
SERVICE_AUTHID = 'routerworker-worker001-realm-realm001-serviceagent'
SERVICE_AUTHROLE = 'trusted'

_RUNTIME_ERROR = 'wamp.error.runtime_error'


class _ServiceError(Exception):
    """A meta procedure failed: its ERROR URI and args."""

    def __init__(self, error, *args):
        super().__init__(*args)
        self.error = error


def _authroles_filter(filter_authroles):
    # Crossbar.io asserts the type: a failed assert answers runtime_error without args
    if filter_authroles is not None and not isinstance(filter_authroles, list):
        raise _ServiceError(_RUNTIME_ERROR)
    return filter_authroles


def _by_match(entries):
    """{"exact": [ids], "prefix": [ids], "wildcard": [ids]} of the entries not on reserved URIs (Crossbar.io
    leaves its own "wamp." ones out for every session but the trusted)."""
    lists = {MATCH_EXACT: [], MATCH_PREFIX: [], MATCH_WILDCARD: []}
    for entry in entries:
        if not is_reserved(entry.uri):
            lists[entry.match].append(entry.id)
    return lists


class _EntryApi:
    """The six meta procedures over one kind of entry (subscriptions or registrations), named as
    Crossbar.io names them: list, lookup, match, get, list_<members>, count_<members>."""

    def __init__(self, entries, no_such, what, single_match):
        self._entries = entries  # () -> the UriMap
        self._no_such = no_such
        self._what = what
        self._where = 'dealer' if single_match else 'broker'  # Crossbar.io's wording
        self._single_match = single_match  # registrations: one best match, not a list

    def procedures(self, prefix, members):
        return {prefix + 'list': self.list, prefix + 'lookup': self.lookup, prefix + 'match': self.match,
                prefix + 'get': self.get, prefix + 'list_' + members: self.list_members,
                prefix + 'count_' + members: self.count_members}

    def _entry(self, entry_id):
        entry = self._entries().by_id(entry_id) if isinstance(entry_id, int) else None
        if entry is None or is_reserved(entry.uri):
            raise _ServiceError(self._no_such,
                                'no {} with ID {} exists on this {}'.format(self._what, entry_id, self._where))
        return entry

    def list(self, session_id=None):
        entries = self._entries().all()
        if session_id is not None:
            entries = [entry for entry in entries if any(s.session_id == session_id for s in entry.members)]
        return _by_match(entries)

    def lookup(self, uri, options=None):
        entry = self._entries().get(uri, (options or {}).get('match', MATCH_EXACT))
        return entry.id if entry is not None else None

    def match(self, uri):
        if self._single_match:
            entry = self._entries().best_match(uri)
            return entry.id if entry is not None else None
        ids = [entry.id for entry in self._entries().matching(uri)]
        return ids or None

    def get(self, entry_id):
        entry = self._entry(entry_id)
        details = entry.describe()
        if self._single_match:
            details['invoke'] = entry.invoke
        return details

    def list_members(self, entry_id):
        return [session.session_id for session in self._entry(entry_id).members]

    def count_members(self, entry_id):
        return len(self._entry(entry_id).members)


class MetaApi:
    """The session, subscription and registration meta procedures of one realm."""

    def __init__(self, realm):
        self._realm = realm
        self.session_id = new_id()
        subscriptions = _EntryApi(lambda: realm.broker.subscriptions(), ApplicationError.NO_SUCH_SUBSCRIPTION,
                                  'subscription', single_match=False)
        registrations = _EntryApi(lambda: realm.dealer.registrations(), ApplicationError.NO_SUCH_REGISTRATION,
                                  'registration', single_match=True)
        self._procedures = {'wamp.session.count': self._count, 'wamp.session.list': self._list,
                            'wamp.session.get': self._get}
        self._procedures.update(subscriptions.procedures('wamp.subscription.', 'subscribers'))
        self._procedures.update(registrations.procedures('wamp.registration.', 'callees'))

    def handles(self, procedure):
        """True if `procedure` is one this API answers."""
        return procedure in self._procedures

    def call(self, caller, msg):
        """Answer a CALL of one of the meta procedures with RESULT or ERROR."""
        if msg.payload is not None:
            self._error(caller, msg, ApplicationError.ENC_NO_PAYLOAD_CODEC,
                        'received encrypted INVOCATION payload, but no keyring active')
            return
        try:
            # positional and keyword arguments bind as in Crossbar.io's Python signatures
            result = self._procedures[msg.procedure](*(msg.args or []), **(msg.kwargs or {}))
        except TypeError as error:
            self._error(caller, msg, _RUNTIME_ERROR, *error.args)
        except _ServiceError as error:
            self._error(caller, msg, error.error, *error.args)
        else:
            caller.send(message.Result(msg.request, args=[result], callee=self.session_id,
                                       callee_authid=SERVICE_AUTHID, callee_authrole=SERVICE_AUTHROLE))

    @staticmethod
    def _error(caller, msg, error, *args):
        caller.send(message.Error(message.Call.MESSAGE_TYPE, msg.request, error, args=list(args) or None))

    def _matching(self, filter_authroles):
        # the service session itself (Crossbar.io's only "trusted" one, which it leaves out) is not
        # in realm.sessions, so every joined session counts
        wanted = _authroles_filter(filter_authroles)
        return [session_id for session_id, session in self._realm.sessions.items()
                if wanted is None or session.authrole in wanted]

    def _count(self, filter_authroles=None):
        return len(self._matching(filter_authroles))

    def _list(self, filter_authroles=None):
        return self._matching(filter_authroles)

    def _get(self, session_id):
        # an unhashable id raises TypeError (runtime_error), as Crossbar.io's dict lookup does
        session = self._realm.sessions.get(session_id)
        if session is None:
            raise _ServiceError(ApplicationError.NO_SUCH_SESSION,
                                'no session with ID {} exists on this router'.format(session_id))
        transport = session.transport
        # Autobahn's SessionDetails, the type Crossbar.io keeps per session; "transport" holds
        # Autobahn's TransportDetails of the connection (what Crossbar.io puts there varies by version)
        return SessionDetails(realm=self._realm.name, session=session.session_id, authid=session.authid,
                              authrole=session.authrole, authmethod=session.authmethod,
                              authprovider=session.authprovider, serializer=transport._serializer.SERIALIZER_ID,
                              transport=transport.transport_details, resumed=False, resumable=False).marshal()
