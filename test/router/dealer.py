"""Remote procedure call part of the test router, modelled on Crossbar.io's dealer."""

import random

from twisted.internet import reactor
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError

from ids import new_id
from routing import ProtocolViolation, is_reserved, transparent_payload
from uri_map import MATCH_EXACT, UriMap


class _Invocation:
    """A call in flight: the CALL, who made it, and the callee it went to."""

    def __init__(self, invocation_id, caller, call, callee):
        self.id = invocation_id
        self.caller = caller
        self.call = call
        self.callee = callee
        # set once the caller canceled or left: the callee's answer is then not forwarded as such
        self.canceled = False
        # for cancel mode "kill": the ERROR the caller gets once the callee has answered
        self.deferred_error = None
        # the router-side call timeout (CALL.Options.timeout), while it runs
        self.timer = None


def _canceled_error(call, reason):
    return message.Error(message.Call.MESSAGE_TYPE, call.request, ApplicationError.CANCELED, [reason])


def _can_cancel(session, role):
    """Whether the session announced call_canceling for `role` (Crossbar.io sends INTERRUPT to a callee,
    and the ERROR of a timed-out call to a caller, only then)."""
    features = session.roles.get(role)
    return bool(features is not None and features.call_canceling)


def _can_interrupt(callee):
    return _can_cancel(callee, 'callee')


def _choose_callee(entry):
    """The callee a call goes to under the registration's invocation policy (as Crossbar.io's dealer)."""
    callees = list(entry.members)
    if entry.invoke == message.Register.INVOKE_LAST:
        return callees[-1]
    if entry.invoke == message.Register.INVOKE_ROUNDROBIN:
        callee = callees[entry.next_callee % len(callees)]
        entry.next_callee += 1
        return callee
    if entry.invoke == message.Register.INVOKE_RANDOM:
        return random.choice(callees)
    return callees[0]  # single, first


class Dealer:
    """Registrations of one realm and the routing of CALL/YIELD/ERROR/CANCEL."""

    def __init__(self, disclose_all):
        self._registrations = UriMap()
        self._disclose_all = disclose_all
        self._invocations = {}
        # (caller session id, CALL request id) -> _Invocation, to find the target of a CANCEL
        self._by_call = {}

    def register(self, session, msg):
        """REGISTER -> REGISTERED; ERROR wamp.error.invalid_uri for a reserved "wamp." procedure (as
        Crossbar.io refuses every session but its own "trusted" ones). A registration is shared by the
        callees that ask for the same invocation policy (not "single"); otherwise ERROR
        wamp.error.procedure_already_exists (the existing one is "single") or
        wamp.error.procedure_exists_with_different_invocation_policy."""
        if is_reserved(msg.procedure):
            # the message text is Crossbar.io's, unbalanced parenthesis included
            session.send(message.Error(message.Register.MESSAGE_TYPE, msg.request, ApplicationError.INVALID_URI,
                                       ["register for restricted procedure URI '{}')".format(msg.procedure)]))
            return
        entry = self._registrations.get(msg.procedure, msg.match)
        if entry is not None and entry.invoke == message.Register.INVOKE_SINGLE:
            session.send(message.Error(message.Register.MESSAGE_TYPE, msg.request,
                                       ApplicationError.PROCEDURE_ALREADY_EXISTS,
                                       ["register for already registered procedure '{}'".format(msg.procedure)]))
            return
        if entry is not None and entry.invoke != msg.invoke:
            conflict = ApplicationError.PROCEDURE_EXISTS_INVOCATION_POLICY_CONFLICT
            session.send(message.Error(
                message.Register.MESSAGE_TYPE, msg.request, conflict,
                ["register for already registered procedure '{}' with conflicting invocation policy (has {} and {} "
                 "was requested)".format(msg.procedure, entry.invoke, msg.invoke)]))
            return
        if entry is None:
            entry = self._registrations.add(msg.procedure, msg.match)
            entry.invoke = msg.invoke
        entry.members[session] = True
        session.send(message.Registered(msg.request, entry.id))

    def registrations(self):
        """The realm's registrations (for the registration meta API)."""
        return self._registrations

    def unregister(self, session, msg):
        """UNREGISTER -> UNREGISTERED, or ERROR wamp.error.no_such_registration."""
        entry = self._registrations.by_id(msg.registration)
        if entry is None or session not in entry.members:
            session.send(message.Error(message.Unregister.MESSAGE_TYPE, msg.request,
                                       ApplicationError.NO_SUCH_REGISTRATION))
            return
        self._registrations.remove_member(entry, session)
        session.send(message.Unregistered(msg.request))

    def call(self, session, msg, disclose_me):
        """CALL -> INVOCATION to the best matching callee, or ERROR wamp.error.no_such_procedure."""
        entry = self._registrations.best_match(msg.procedure)
        if entry is None:
            session.send(message.Error(message.Call.MESSAGE_TYPE, msg.request, ApplicationError.NO_SUCH_PROCEDURE,
                                       ["no callee registered for procedure <{}>".format(msg.procedure)]))
            return
        callee = _choose_callee(entry)
        disclose = self._disclose_all or disclose_me
        invocation = _Invocation(new_id(self._invocations), session, msg, callee)
        self._invocations[invocation.id] = invocation
        self._by_call[(session.session_id, msg.request)] = invocation
        if msg.timeout:
            invocation.timer = reactor.callLater(msg.timeout / 1000.0, self._time_out, invocation)
        callee.send(message.Invocation(
            invocation.id, entry.id,
            timeout=msg.timeout,
            receive_progress=msg.receive_progress,
            caller=session.session_id if disclose else None,
            caller_authid=session.authid if disclose else None,
            caller_authrole=session.authrole if disclose else None,
            # pattern callees cannot know the concrete procedure otherwise
            procedure=msg.procedure if entry.match != MATCH_EXACT else None,
            **transparent_payload(msg)))

    def cancel(self, session, msg):
        """CANCEL: skip -> ERROR only; kill -> INTERRUPT, ERROR after the callee answered;
        killnowait (and no mode, as in Crossbar.io) -> INTERRUPT and ERROR at once."""
        invocation = self._by_call.get((session.session_id, msg.request))
        if invocation is None or invocation.canceled:
            return
        invocation.canceled = True
        mode = msg.mode if _can_interrupt(invocation.callee) else message.Cancel.SKIP
        error = _canceled_error(invocation.call, "call canceled by caller (mode {})".format(mode))
        if mode != message.Cancel.SKIP:
            invocation.callee.send(message.Interrupt(invocation.id, mode))
        if mode == message.Cancel.KILL:
            invocation.deferred_error = error
        else:
            session.send(error)

    def yield_(self, session, msg):
        """YIELD -> RESULT (progressive results keep the call open).

        Like Crossbar.io (20.x and later) every RESULT discloses the callee, whatever the realm's
        disclose settings: its dealer hard-codes that for YIELD (and not for a callee's ERROR).
        """
        invocation = self._owned_invocation(session, msg.request, 'YIELD')
        if invocation is None:
            return
        if invocation.canceled:
            self._answer_canceled(invocation)
            return
        invocation.caller.send(message.Result(invocation.call.request, progress=msg.progress,
                                              callee=session.session_id, callee_authid=session.authid,
                                              callee_authrole=session.authrole, **transparent_payload(msg)))
        if not msg.progress:
            self._finish(invocation)

    def invocation_error(self, session, msg):
        """Callee ERROR for an INVOCATION -> caller ERROR with the same URI and payload."""
        invocation = self._owned_invocation(session, msg.request, 'ERROR')
        if invocation is None:
            return
        if invocation.canceled:
            self._answer_canceled(invocation)
            return
        invocation.caller.send(message.Error(message.Call.MESSAGE_TYPE, invocation.call.request, msg.error,
                                             **transparent_payload(msg)))
        self._finish(invocation)

    def detach(self, session):
        """A session left: cancel its pending calls in both directions, drop its registrations."""
        for invocation in list(self._invocations.values()):
            if invocation.callee is session:
                caller_waits = not invocation.canceled or invocation.deferred_error is not None
                if caller_waits and invocation.caller is not session:
                    invocation.caller.send(_canceled_error(invocation.call, "callee disconnected from in-flight request"))
                self._finish(invocation)
            elif invocation.caller is session:
                # the callee's late answer has nobody to go to
                invocation.deferred_error = None
                self._by_call.pop((session.session_id, invocation.call.request), None)
                if not invocation.canceled:
                    invocation.canceled = True
                    if _can_interrupt(invocation.callee):
                        invocation.callee.send(message.Interrupt(invocation.id, message.Cancel.KILLNOWAIT))
        for entry in self._registrations.entries_of(session):
            self._registrations.remove_member(entry, session)

    def _owned_invocation(self, session, request, what):
        """The pending invocation a callee's YIELD/ERROR answers, or None for an unknown request id:
        Crossbar.io (20.x and later) ignores that (a late answer, e.g. after a call timeout); an
        answer to another callee's invocation is a protocol violation."""
        invocation = self._invocations.get(request)
        if invocation is not None and invocation.callee is not session:
            raise ProtocolViolation("{} received for non-owned request ID {}".format(what, request))
        return invocation

    def _answer_canceled(self, invocation):
        """The callee answered a canceled call: release the deferred "kill" ERROR, drop the rest."""
        if invocation.deferred_error is not None:
            invocation.caller.send(invocation.deferred_error)
        self._finish(invocation)

    def _time_out(self, invocation):
        """The router-side call timeout passed, as Crossbar.io's dealer handles it: the caller gets
        ERROR wamp.error.canceled (if it announced call_canceling and still waits), the callee INTERRUPT
        "killnowait" (if it announced call_canceling); a late answer is then ignored."""
        invocation.timer = None
        caller_waits = not invocation.canceled or invocation.deferred_error is not None
        if caller_waits and _can_cancel(invocation.caller, 'caller'):
            invocation.caller.send(_canceled_error(invocation.call, "call timed out"))
        if not invocation.canceled and _can_interrupt(invocation.callee):
            invocation.callee.send(message.Interrupt(invocation.id, message.Cancel.KILLNOWAIT))
        self._finish(invocation)

    def _finish(self, invocation):
        if invocation.timer is not None:
            invocation.timer.cancel()
            invocation.timer = None
        del self._invocations[invocation.id]
        self._by_call.pop((invocation.caller.session_id, invocation.call.request), None)
