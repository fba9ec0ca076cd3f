#!/usr/bin/python3
"""peer_bench's twin on Autobahn|Python (Twisted): the same workloads through a router, the same
JSON line (bench/run-peer-bench runs both and prints the table).

    peer_bench_autobahn.py --url URL --workload pubsub|rpc|pipelined [--keyring FILE]
                           [--seconds S] [--warmup S] [--window W] [--inflight C]
                           [--payload BYTES] [--router-pid PID]

Two sessions in this process on one reactor: publisher and subscriber (at most W events
published and not yet received), or caller and echo callee (one call at a time, or C in
flight). Payload: args = [one string of BYTES bytes]; with --keyring (wampbox's key-ring file
with entries for "bench.", read by test/interop/autobahn_peer.py's loader) every payload is
encrypted with Autobahn's cryptobox. CPU: this process's getrusage during the measured
interval, per operation; the router's from /proc/PID/stat with --router-pid.
"""

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'interop'))

import autobahn_peer  # noqa: E402 (the interop peer's connect and key-ring loader; picks Twisted)
from twisted.internet import reactor  # noqa: E402
from autobahn.twisted.wamp import ApplicationSession  # noqa: E402
from autobahn.wamp import types  # noqa: E402
from autobahn.wamp.serializer import MsgPackSerializer  # noqa: E402

TOPIC = 'bench.topic'
PROCEDURE = 'bench.echo'
DRAIN_SECONDS = 5.0


def process_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def other_process_cpu(pid):
    """CPU seconds of process `pid` (utime + stime of /proc/PID/stat), or None."""
    if not pid:
        return None
    try:
        with open('/proc/{}/stat'.format(pid)) as stream:
            text = stream.read()
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split()  # fields[0] is field 3 (the state)
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))]


class Bench:
    """The state of one run; both sessions call into it."""

    def __init__(self, options):
        self.options = options
        self.payload = 'x' * options.payload
        self.sessions = []
        self.phase = 'setup'
        self.started = 0
        self.completed = 0
        self.latencies_us = []
        self.begin = self.end = None
        self.exit_code = 1

    def snapshot(self):
        return {'ops': self.completed, 'at': time.monotonic(), 'cpu': process_cpu(),
                'router_cpu': other_process_cpu(self.options.router_pid)}

    def issuing(self):
        return self.phase in ('warmup', 'measuring')

    def fail(self, why):
        print('peer_bench_autobahn: {}'.format(why), file=sys.stderr, flush=True)
        self.phase = 'done'
        self.stop()

    # ---- setup: both sessions joined, then the subscription or registration

    def joined(self, session):
        self.sessions.append(session)
        if len(self.sessions) < 2:
            return
        a, b = self.sessions
        self.publisher_or_caller = a
        if self.options.workload == 'pubsub':
            d = b.subscribe(self.on_event, TOPIC)
        else:
            d = b.register(lambda text: text, PROCEDURE)
        d.addCallbacks(lambda _: self.start_workload(), lambda f: self.fail('setup failed: {}'.format(f.value)))

    # ---- pubsub

    def pump_publications(self):
        a = self.publisher_or_caller
        while self.issuing() and self.started - self.completed < self.options.window:
            self.started += 1
            a.publish(TOPIC, self.payload)

    def on_event(self, text):
        if len(text) != self.options.payload:
            return self.fail('wrong event')
        self.completed += 1
        if self.issuing():
            self.pump_publications()
        elif self.phase == 'draining' and self.completed == self.started:
            self.finish()

    # ---- rpc and pipelined

    def start_call(self):
        self.started += 1
        sent = time.perf_counter()
        d = self.publisher_or_caller.call(PROCEDURE, self.payload)

        def answered(result):
            if result != self.payload:
                return self.fail('wrong echo')
            self.completed += 1
            if self.phase == 'measuring':
                self.latencies_us.append((time.perf_counter() - sent) * 1e6)
            if self.issuing():
                self.start_call()
            elif self.phase == 'draining' and self.completed == self.started:
                self.finish()

        d.addCallbacks(answered, lambda f: self.fail('call failed: {}'.format(f.value)))

    # ---- phases

    def start_workload(self):
        self.phase = 'warmup'
        reactor.callLater(self.options.warmup, self.start_measuring)
        if self.options.workload == 'pubsub':
            self.pump_publications()
        else:
            for _ in range(1 if self.options.workload == 'rpc' else self.options.inflight):
                self.start_call()

    def start_measuring(self):
        if self.phase != 'warmup':
            return
        self.phase = 'measuring'
        self.begin = self.snapshot()
        reactor.callLater(self.options.seconds, self.start_draining)

    def start_draining(self):
        if self.phase != 'measuring':
            return
        self.end = self.snapshot()
        self.phase = 'draining'
        if self.completed == self.started:
            return self.finish()
        reactor.callLater(DRAIN_SECONDS, self.finish)

    def finish(self):
        if self.phase == 'done':
            return
        self.phase = 'done'
        self.print_row()
        self.exit_code = 0 if self.started == self.completed else 3
        self.stop()

    def stop(self):
        for session in self.sessions:
            if session.is_attached():
                session.leave()
        reactor.callLater(0.5, lambda: reactor.running and reactor.stop())

    def print_row(self):
        o = self.options
        wall = self.end['at'] - self.begin['at']
        ops = self.end['ops'] - self.begin['ops']
        row = {'impl': 'autobahn-python', 'url': o.url, 'workload': o.workload, 'encrypted': bool(o.keyring),
               'ops': ops, 'seconds': wall, 'ops_per_s': ops / wall,
               'client_cpu_us_per_op': 1e6 * (self.end['cpu'] - self.begin['cpu']) / max(ops, 1),
               'lost': self.started - self.completed}
        if self.begin['router_cpu'] is not None and self.end['router_cpu'] is not None:
            row['router_cpu_share'] = (self.end['router_cpu'] - self.begin['router_cpu']) / wall
        if o.workload == 'pubsub':
            row['window'] = o.window
        if o.workload == 'pipelined':
            row['inflight'] = o.inflight
        if o.workload != 'pubsub':
            row.update(p50_us=percentile(self.latencies_us, 0.50), p99_us=percentile(self.latencies_us, 0.99),
                       max_us=max(self.latencies_us, default=0.0))
        print(json.dumps(row), flush=True)


class BenchSession(ApplicationSession):
    def __init__(self, config, bench, keyring):
        super().__init__(config)
        self._bench = bench
        if keyring is not None:
            self.set_payload_codec(keyring)

    def onJoin(self, details):
        self._bench.joined(self)

    def onDisconnect(self):
        if self._bench.phase != 'done':
            self._bench.fail('connection lost')


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='peer_bench_autobahn.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--workload', required=True, choices=('pubsub', 'rpc', 'pipelined'))
    parser.add_argument('--keyring', metavar='FILE')
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--warmup', type=float, default=0.5)
    parser.add_argument('--window', type=int, default=100)
    parser.add_argument('--inflight', type=int, default=100)
    parser.add_argument('--payload', type=int, default=100)
    parser.add_argument('--router-pid', type=int, default=0)
    options = parser.parse_args(argv)
    if options.window < 1 or options.inflight < 1:
        parser.error('--window and --inflight must be at least 1')
    return options


def main(argv):
    options = parse_args(argv)
    bench = Bench(options)
    keyring = autobahn_peer.load_keyring(options.keyring) if options.keyring else None
    config = types.ComponentConfig(realm='realm1')
    for _ in range(2):
        d = autobahn_peer.connect(options.url, MsgPackSerializer(), lambda: BenchSession(config, bench, keyring))
        d.addErrback(lambda f: bench.fail('cannot connect: {}'.format(f.value)))
    # a run that hangs (router gone mute) still ends
    reactor.callLater(options.warmup + options.seconds + DRAIN_SECONDS + 30, bench.fail, 'timed out')
    reactor.run()
    return bench.exit_code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
