"""Richards: a small operating-system task scheduler (idle, worker, handler
and device tasks passing packets), in the spirit of the classic benchmark."""

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
KIND_DEVICE, KIND_WORK = 0, 1


class Packet:
    __slots__ = ("link", "ident", "kind", "datum", "data")

    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * 4

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        p = queue
        while p.link is not None:
            p = p.link
        p.link = self
        return queue


class Task:
    """A task: waiting for a packet, held, or ready; `queue` holds its packets."""

    __slots__ = ("link", "ident", "priority", "queue", "waiting", "held", "state")

    def __init__(self, scheduler, ident, priority, queue, waiting, state):
        self.link = scheduler.tasks
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = waiting
        self.held = False
        self.state = state
        scheduler.tasks = self
        scheduler.table[ident] = self


class Scheduler:
    def __init__(self):
        self.tasks = None
        self.table = [None] * 6
        self.current = None
        self.hold_count = 0
        self.queue_count = 0

    def release(self, ident):
        t = self.table[ident]
        t.held = False
        return t if t.priority > self.current.priority else self.current

    def hold_self(self):
        self.hold_count += 1
        self.current.held = True
        return self.current.link

    def wait(self):
        self.current.waiting = True
        return self.current

    def queue(self, packet):
        t = self.table[packet.ident]
        self.queue_count += 1
        packet.link = None
        packet.ident = self.current.ident
        if t.queue is None:
            t.queue = packet
            return t if t.priority > self.current.priority else self.current
        t.queue = packet.append_to(t.queue)
        return self.current

    def run(self):
        self.current = self.tasks
        while self.current is not None:
            t = self.current
            if t.held or (t.waiting and t.queue is None):
                self.current = t.link
                continue
            packet = None
            if t.waiting:
                packet = t.queue
                t.queue = packet.link
                t.waiting = False
            self.current = self.step(t, packet)

    def step(self, t, packet):
        s = t.state
        if t.ident == IDLE:
            s["count"] -= 1
            if s["count"] == 0:
                return self.hold_self()
            if s["control"] & 1 == 0:
                s["control"] >>= 1
                return self.release(DEVICE_A)
            s["control"] = (s["control"] >> 1) ^ 0xD008
            return self.release(DEVICE_B)
        if t.ident == WORKER:
            if packet is None:
                return self.wait()
            s["dest"] = HANDLER_B if s["dest"] == HANDLER_A else HANDLER_A
            packet.ident = s["dest"]
            packet.datum = 0
            for i in range(4):
                s["count"] += 1
                if s["count"] > 26:
                    s["count"] = 1
                packet.data[i] = ord("A") + s["count"] - 1
            return self.queue(packet)
        if t.ident in (HANDLER_A, HANDLER_B):
            if packet is not None:
                if packet.kind == KIND_WORK:
                    s["work"] = packet.append_to(s["work"])
                else:
                    s["device"] = packet.append_to(s["device"])
            work = s["work"]
            if work is not None:
                if work.datum < 4:
                    device = s["device"]
                    if device is not None:
                        s["device"] = device.link
                        device.datum = work.data[work.datum]
                        work.datum += 1
                        return self.queue(device)
                else:
                    s["work"] = work.link
                    return self.queue(work)
            return self.wait()
        # A device: hold a packet for a while, then send it back.
        if packet is None:
            pending = s["pending"]
            if pending is None:
                return self.wait()
            s["pending"] = None
            return self.queue(pending)
        s["pending"] = packet
        return self.hold_self()


class Richards:
    """process(count): run the scheduler with `count` idle ticks; gives the queue and hold counts."""

    def process(self, count):
        sched = Scheduler()
        Task(sched, IDLE, 0, None, False, {"count": count, "control": 1})
        wq = Packet(None, 0, KIND_WORK)
        wq = Packet(wq, 0, KIND_WORK)
        Task(sched, WORKER, 1000, wq, True, {"dest": HANDLER_A, "count": 0})
        for handler, device, priority in ((HANDLER_A, DEVICE_A, 2000), (HANDLER_B, DEVICE_B, 3000)):
            wq = Packet(None, device, KIND_DEVICE)
            wq = Packet(wq, device, KIND_DEVICE)
            wq = Packet(wq, device, KIND_DEVICE)
            Task(sched, handler, priority, wq, True, {"work": None, "device": None})
        Task(sched, DEVICE_A, 4000, None, True, {"pending": None})
        Task(sched, DEVICE_B, 5000, None, True, {"pending": None})
        sched.run()
        return {"queued": sched.queue_count, "held": sched.hold_count}
