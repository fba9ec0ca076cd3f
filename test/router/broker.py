"""Publish/subscribe part of the test router, modelled on Crossbar.io's broker."""

from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError

from ids import new_id
from routing import is_reserved, is_valid_pattern, transparent_payload
from uri_map import MATCH_EXACT, UriMap


class Broker:
    """Subscriptions of one realm and the routing of PUBLISH to EVENT."""

    def __init__(self, disclose_all):
        self._subscriptions = UriMap()
        self._disclose_all = disclose_all
        # topic -> the last PUBLISH with retain=True on it, its publisher and whether it was disclosed
        self._retained = {}

    def subscriptions(self):
        """The realm's subscriptions (for the subscription meta API)."""
        return self._subscriptions

    def subscribe(self, session, msg):
        """SUBSCRIBE -> SUBSCRIBED; sessions share one subscription per (topic, match).

        "wamp." topics are not refused: Crossbar.io lets clients subscribe to its meta events. A topic
        with empty components where the match policy allows none gets ERROR wamp.error.invalid_uri.
        """
        if not is_valid_pattern(msg.topic, msg.match):
            session.send(message.Error(message.Subscribe.MESSAGE_TYPE, msg.request, ApplicationError.INVALID_URI,
                                       ["subscribe for invalid topic URI '{}'".format(msg.topic)]))
            return
        entry = self._subscriptions.get(msg.topic, msg.match) or self._subscriptions.add(msg.topic, msg.match)
        entry.members[session] = True
        session.send(message.Subscribed(msg.request, entry.id))
        if msg.get_retained:
            self._send_retained(session, entry)

    def _send_retained(self, session, entry):
        """After SUBSCRIBED with get_retained, as Crossbar.io: the event retained on the subscription's own
        topic (exact match only: Crossbar.io keeps retained events with the exact topic's subscription), as
        an EVENT with a new publication id and details.retained, if the subscriber is eligible for it."""
        if entry.match != MATCH_EXACT or entry.uri not in self._retained:
            return
        publish, publisher, disclose = self._retained[entry.uri]
        if not self._is_receiver(session, publisher, publish):
            return
        session.send(self._event(entry, new_id(), publish, publisher, disclose, retained=True))

    def unsubscribe(self, session, msg):
        """UNSUBSCRIBE -> UNSUBSCRIBED, or ERROR wamp.error.no_such_subscription."""
        entry = self._subscriptions.by_id(msg.subscription)
        if entry is None or session not in entry.members:
            session.send(message.Error(message.Unsubscribe.MESSAGE_TYPE, msg.request,
                                       ApplicationError.NO_SUCH_SUBSCRIPTION))
            return
        self._subscriptions.remove_member(entry, session)
        session.send(message.Unsubscribed(msg.request))

    def publish(self, session, msg, disclose_me):
        """PUBLISH -> EVENT to every eligible subscriber, then PUBLISHED if acknowledged.

        A reserved "wamp." topic is refused as Crossbar.io does: nothing is delivered, and only an
        acknowledged PUBLISH gets an answer (ERROR wamp.error.invalid_uri).
        """
        if is_reserved(msg.topic):
            if msg.acknowledge:
                session.send(message.Error(message.Publish.MESSAGE_TYPE, msg.request, ApplicationError.INVALID_URI,
                                           ["publish with restricted topic URI '{}'".format(msg.topic)]))
            return
        publication = new_id()
        disclose = self._disclose_all or disclose_me
        for entry in self._subscriptions.matching(msg.topic):
            for receiver in entry.members:
                if self._is_receiver(receiver, session, msg):
                    receiver.send(self._event(entry, publication, msg, session, disclose))
        if msg.retain:
            self._retained[msg.topic] = (msg, session, disclose)
        if msg.acknowledge:
            session.send(message.Published(msg.request, publication))

    @staticmethod
    def _event(entry, publication, msg, publisher, disclose, retained=None):
        return message.Event(
            entry.id, publication,
            publisher=publisher.session_id if disclose else None,
            publisher_authid=publisher.authid if disclose else None,
            publisher_authrole=publisher.authrole if disclose else None,
            # pattern subscribers cannot know the concrete topic otherwise
            topic=msg.topic if entry.match != MATCH_EXACT else None,
            retained=retained,
            **transparent_payload(msg))

    @staticmethod
    def _is_receiver(receiver, publisher, msg):
        """Publisher exclusion and subscriber black/white listing, as in the WAMP Advanced Profile."""
        if receiver is publisher and msg.exclude_me is not False:
            return False
        if msg.exclude and receiver.session_id in msg.exclude:
            return False
        if msg.exclude_authid and receiver.authid in msg.exclude_authid:
            return False
        if msg.exclude_authrole and receiver.authrole in msg.exclude_authrole:
            return False
        if msg.eligible is not None and receiver.session_id not in msg.eligible:
            return False
        if msg.eligible_authid is not None and receiver.authid not in msg.eligible_authid:
            return False
        if msg.eligible_authrole is not None and receiver.authrole not in msg.eligible_authrole:
            return False
        return True

    def detach(self, session):
        """Forget all subscriptions of a session that left."""
        for entry in self._subscriptions.entries_of(session):
            self._subscriptions.remove_member(entry, session)
