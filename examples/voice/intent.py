"""Intent parsing: recognized text -> an action record.

    {"text": "turn on the kitchen lights", "start": 1.32, "end": 2.71}
 -> {"action": "on", "room": "kitchen", "device": "lights", "start": 1.32, "end": 2.71}

It reads the words, not the recognizer's grammar, so it takes phrasings the
grammar does not have ("kitchen lights on", "switch the fan off"). Text it
cannot read as a command gives an error record naming what was missing;
the pipeline goes on with the next utterance.
"""

from nodehost import Node

ROOMS = {
    "kitchen": "kitchen", "bedroom": "bedroom", "living room": "living room",
    "lounge": "living room", "bathroom": "bathroom", "hallway": "hallway",
    "hall": "hallway", "garage": "garage", "office": "office", "study": "office",
    "dining room": "dining room", "basement": "basement", "cellar": "basement",
    "garden": "garden", "yard": "garden", "attic": "attic",
}

# What a device is called -> the device in the action record.
DEVICES = {
    "lights": "lights", "light": "lights", "lamp": "lamp", "lamps": "lamp",
    "fan": "fan", "heater": "heater", "heating": "heating", "thermostat": "heating",
    "radio": "radio", "music": "music", "tv": "tv", "television": "tv",
    "oven": "oven", "sprinklers": "sprinklers", "sprinkler": "sprinklers",
    "alarm": "alarm", "door": "door", "blinds": "blinds", "curtains": "curtains",
    "window": "window", "windows": "window",
}

# Which devices each action applies to (None: any).
ACTIONS = {
    "on": None, "off": None,
    "dim": {"lights", "lamp"}, "brighten": {"lights", "lamp"},
    "open": {"door", "blinds", "curtains", "window"},
    "close": {"door", "blinds", "curtains", "window"},
    "lock": {"door"}, "unlock": {"door"},
    "set": {"heating", "heater"},
}

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40}

FILLER = {"please", "the", "a", "my", "could", "you", "can", "would", "kindly", "now"}


class UnknownCommand(ValueError):
    """The text is not a command this parser knows."""


def _words(text):
    words = []
    for raw in text.lower().replace("-", " ").split():
        word = "".join(c for c in raw if c.isalnum())
        if word and word not in FILLER:
            words.append(word)
    return words


def _take_room(words):
    for i in range(len(words)):
        for width in (2, 1):
            name = " ".join(words[i:i + width])
            if len(words[i:i + width]) == width and name in ROOMS:
                return ROOMS[name], words[:i] + words[i + width:]
    return None, words


def _take_number(words):
    for i, word in enumerate(words):
        if word.isdigit():
            return int(word), words[:i] + words[i + 1:]
        if word in TENS:
            value, used = TENS[word], 1
            if i + 1 < len(words) and words[i + 1] in UNITS and UNITS[words[i + 1]] < 10:
                value, used = value + UNITS[words[i + 1]], 2
            return value, words[:i] + words[i + used:]
        if word in UNITS:
            return UNITS[word], words[:i] + words[i + 1:]
    return None, words


def _take_action(words):
    for i, word in enumerate(words):
        if word in ("turn", "switch", "put"):
            rest = words[:i] + words[i + 1:]
            for j, other in enumerate(rest):
                if other in ("on", "off"):
                    return other, rest[:j] + rest[j + 1:]
            raise UnknownCommand("'%s' without on or off" % word)
        if word in ACTIONS and word not in ("on", "off"):
            return word, words[:i] + words[i + 1:]
    # "kitchen lights on"
    for i, word in enumerate(words):
        if word in ("on", "off"):
            return word, words[:i] + words[i + 1:]
    return None, words


class Intent(Node):
    """Recognized text -> {"action", "room", "device"[, "value"], "start", "end"}."""

    def __init__(self):
        super().__init__()
        self.parsed = 0
        self.unknown = 0

    def parse(self, text):
        """The action record for `text` (no times); raises UnknownCommand."""
        words = _words(text)
        if not words:
            raise UnknownCommand("nothing was recognized")
        action, words = _take_action(words)
        if action is None:
            raise UnknownCommand("no action (on, off, dim, brighten, open, close, lock, unlock, set)")
        room, words = _take_room(words)
        value = None
        if action == "set":
            value, words = _take_number(words)
            if value is None:
                raise UnknownCommand("'set' without a number")
        words = [w for w in words if w not in ("to", "degrees", "degree", "in", "of")]
        devices = [DEVICES[w] for w in words if w in DEVICES]
        leftover = [w for w in words if w not in DEVICES]
        if not devices:
            raise UnknownCommand("no device")
        if len(devices) > 1 or leftover:
            raise UnknownCommand("words not understood: %s" % " ".join(leftover or words))
        device = devices[0]
        allowed = ACTIONS[action]
        if allowed is not None and device not in allowed:
            raise UnknownCommand("cannot %s the %s" % (action, device))
        record = {"action": action, "room": room, "device": device}
        if value is not None:
            record["value"] = value
        return record

    def process(self, utterance):
        text = utterance.get("text", "")
        times = {"start": utterance.get("start"), "end": utterance.get("end")}
        try:
            record = self.parse(text)
        except UnknownCommand as e:
            self.unknown += 1
            self.logger.warning("not a command: %r (%s)", text, e)
            yield dict({"error": "not a command: %s" % e, "text": text}, **times)
            return
        self.parsed += 1
        record.update(times)
        yield record

    def flush(self):
        self.logger.info("%d commands, %d not understood", self.parsed, self.unknown)
