"""URI pattern map shared by the test router's broker and dealer.

Entries are keyed by (uri, match) like Crossbar.io's UriObservationMap: one
entry (subscription or registration) per pair, shared by all its member
sessions, with a random router-scope id.
"""

from autobahn.util import utcnow

from ids import new_id

MATCH_EXACT = 'exact'
MATCH_PREFIX = 'prefix'
MATCH_WILDCARD = 'wildcard'


class Entry:
    """One subscription or registration: its id, URI, match policy and member sessions."""

    def __init__(self, entry_id, uri, match):
        self.id = entry_id
        self.uri = uri
        self.match = match
        # ISO 8601 time of creation, as Crossbar.io reports it in wamp.subscription.get/registration.get
        self.created = utcnow()
        # dict used as an insertion-ordered set: the first member is the oldest
        self.members = {}
        # registrations: the invocation policy shared by all callees, and the round-robin position
        self.invoke = 'single'
        self.next_callee = 0

    def describe(self):
        """The entry as wamp.subscription.get / wamp.registration.get answer it."""
        return {'id': self.id, 'created': self.created, 'uri': self.uri, 'match': self.match}

    def matches(self, uri):
        """True if a concrete URI (topic or procedure) falls under this entry."""
        if self.match == MATCH_EXACT:
            return uri == self.uri
        if self.match == MATCH_PREFIX:
            # character-wise, as Crossbar.io's StringTrie lookup does
            return uri.startswith(self.uri)
        pattern = self.uri.split('.')
        parts = uri.split('.')
        return len(pattern) == len(parts) and all(p == '' or p == u for p, u in zip(pattern, parts))

    def specificity(self):
        """Sort key for choosing among matching entries of one policy (higher = more specific)."""
        if self.match == MATCH_PREFIX:
            return (len(self.uri),)
        # wildcard: the spec prefers the pattern whose non-empty components come first
        return tuple(component != '' for component in self.uri.split('.'))


class UriMap:
    """All entries of one kind (subscriptions or registrations) of a realm."""

    def __init__(self):
        self._by_key = {}
        self._by_id = {}

    def get(self, uri, match):
        """The entry for exactly (uri, match), or None."""
        return self._by_key.get((uri, match))

    def by_id(self, entry_id):
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    def add(self, uri, match):
        """Create and return a new, memberless entry for (uri, match)."""
        entry = Entry(new_id(self._by_id), uri, match)
        self._by_key[(uri, match)] = entry
        self._by_id[entry.id] = entry
        return entry

    def remove_member(self, entry, session):
        """Drop a session from an entry; the entry disappears with its last member."""
        entry.members.pop(session, None)
        if not entry.members:
            del self._by_key[(entry.uri, entry.match)]
            del self._by_id[entry.id]

    def all(self):
        """Every entry (a copy)."""
        return list(self._by_id.values())

    def entries_of(self, session):
        """All entries the session is a member of (copied, safe to modify the map while iterating)."""
        return [entry for entry in self._by_id.values() if session in entry.members]

    def matching(self, uri):
        """All entries a concrete URI matches (broker: every one gets the event)."""
        return [entry for entry in self._by_id.values() if entry.matches(uri)]

    def best_match(self, uri):
        """The single entry a call goes to: exact beats longest prefix beats most specific wildcard."""
        exact = self._by_key.get((uri, MATCH_EXACT))
        if exact is not None:
            return exact
        for match in (MATCH_PREFIX, MATCH_WILDCARD):
            candidates = [e for e in self._by_id.values() if e.match == match and e.matches(uri)]
            if candidates:
                return max(candidates, key=Entry.specificity)
        return None
