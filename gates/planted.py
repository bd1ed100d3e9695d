"""A synthetic support-ticket pool with planted defects and their ground truth,
for the gate tests and benchmarks/gates.py.

The clean tickets are composed from per-intent sentence banks with many slot
values (so unrelated tickets stay far below any near-duplicate threshold), and
the real anchor is drawn from the same generator plus the identifiers real
tickets carry (customer ids, emails, phone numbers, order references). Then:

- ``malformed``: empty, whitespace-only or over-long texts, unknown labels;
- ``exact_duplicate``: copies of pool tickets (some differing only in case or
  spacing); ``anchor_copy``: real anchor tickets copied verbatim;
- ``near_duplicate``: a pool ticket with one small edit (word swapped, dropped,
  inserted, or a typo), kept only when its true shingle Jaccard is ≥ 0.85;
- ``pii_echo``: a pool ticket repeating an identifier of the anchor;
  ``pii_generic``: one carrying an email, phone, Luhn-valid card, valid IBAN,
  SSN or IP address of no one in the anchor;
- ``mislabeled``: a pool ticket given another intent's label.

For duplicate groups, the planted index is every member but the lowest id
(the gates keep the lowest id), so truth matches "one survivor per group".
"""
import hashlib
import random
from dataclasses import dataclass

from .base import Rows

INTENTS = {
    "refund": [
        "I want a refund for the {product} I bought on {day}.",
        "The {product} arrived broken and I would like my {amount} back.",
        "Please refund order {order}, it never worked properly.",
        "I returned the {product} {days} days ago and still no refund.",
        "Your {city} store told me the refund takes a week, it has been {days} days.",
        "How long does a refund to my {card_kind} usually take?",
        "I was promised {amount} back after returning the {color} {product}.",
        "Send the money back to the original payment method please.",
    ],
    "shipping_delay": [
        "My {product} was supposed to arrive on {day} but nothing came.",
        "Tracking for order {order} has not moved since {day}.",
        "The courier in {city} says the parcel is lost.",
        "It has been {days} days and the {color} {product} is still in transit.",
        "Can you tell me where my delivery to {city} is stuck?",
        "I paid {amount} for express shipping and it is late.",
        "The package shows delivered but there is nothing at my door.",
        "Please resend the {product} or tell me when it will come.",
    ],
    "account_access": [
        "I cannot log in to my account since {day}.",
        "The password reset email never arrives.",
        "My {device} app says my account is locked after {days} attempts.",
        "Two factor codes are not reaching my {device}.",
        "I changed my phone and lost access to the authenticator.",
        "Someone in {city} may have logged in to my account.",
        "The login page on my {device} keeps spinning forever.",
        "Please unlock my profile, I need to check order {order}.",
    ],
    "billing_error": [
        "I was charged {amount} twice for the same {product}.",
        "My invoice for {month} shows a fee I never agreed to.",
        "The discount code was not applied and I paid {amount} extra.",
        "Why does my statement show a charge from {city}?",
        "The subscription price went up in {month} without notice.",
        "I was billed for a {color} {product} I never ordered.",
        "Please correct the VAT on invoice for order {order}.",
        "The amount taken from my {card_kind} does not match the receipt.",
    ],
    "cancellation": [
        "Please cancel my subscription before the {month} renewal.",
        "I want to cancel order {order} before it ships.",
        "How do I close my membership, the {device} app has no option?",
        "Cancel the {product} plan, I am moving to {city}.",
        "I asked to cancel on {day} and you still charged {amount}.",
        "Stop the automatic renewal on my {card_kind}.",
        "I no longer need the {color} {product}, please cancel it.",
        "Confirm in writing that my contract ends in {month}.",
    ],
    "technical_issue": [
        "The {product} stops working after {days} minutes.",
        "Your {device} app crashes when I open my orders.",
        "The {color} {product} does not pair with my {device}.",
        "Since the update on {day} the screen stays black.",
        "Error code E{code} appears every time I start the {product}.",
        "The firmware update failed halfway and now it will not boot.",
        "Support in {city} could not fix the {product} either.",
        "The battery of the {product} drains in a few hours.",
    ],
}
OPENERS = ["Hello,", "Hi team,", "Good morning,", "Dear support,", "Hey,", "To whom it may concern,", ""]
CLOSERS = ["Thanks.", "Regards, {name}.", "Please help asap.", "Best, {name}.", "Thank you for your time.",
           "Waiting for your answer.", "{name} from {city}.", ""]
SLOTS = {
    "product": ["kettle", "router", "headset", "blender", "camera", "monitor", "keyboard", "speaker", "vacuum",
                "smartwatch", "tablet", "printer", "toaster", "drone", "scooter", "lamp", "heater", "charger",
                "microwave", "projector", "mixer", "fan", "tracker", "doorbell", "thermostat", "soundbar",
                "hairdryer", "coffee machine", "e-reader", "power bank"],
    "color": ["black", "white", "red", "blue", "green", "silver", "grey", "pink", "gold", "navy", "beige"],
    "device": ["iPhone", "Android", "iPad", "laptop", "desktop", "Pixel", "Galaxy", "Windows", "Mac", "tablet"],
    "city": ["Leeds", "Porto", "Lyon", "Graz", "Turin", "Ghent", "Malmo", "Cork", "Krakow", "Bilbao", "Utrecht",
             "Aarhus", "Bergen", "Brno", "Seville", "Nantes", "Basel", "Tampere", "Riga", "Split", "Bristol",
             "Dresden", "Bologna", "Lille", "Vigo", "Linz", "Tartu", "Cluj", "Pecs", "Derby"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] + [
        f"{d} {m}" for d in (1, 3, 7, 12, 15, 19, 22, 28) for m in ("March", "April", "May", "June")],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"],
    "card_kind": ["credit card", "debit card", "PayPal account", "bank account", "gift card"],
    "name": ["Anna", "Ben", "Carla", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luca",
             "Mia", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tess", "Umar", "Vera", "Wim", "Yara", "Zoe"],
}
EMAIL_DOMAINS = ["mailbox.org", "gmx.de", "outlook.com", "proton.me", "fastmail.com", "web.de", "libero.it"]
CUSTOMER_PHRASE = "My customer number is {}."
# How tickets carry personal data (the anchor's, echoed, or anyone's).
PHRASES = {"email": "Reach me at {}.", "phone": "Call me on {}.", "card": "My card number is {}.",
           "iban": "Please refund to IBAN {}.", "ssn": "My SSN is {}.", "ipv4": "The error page showed my IP {}.",
           "ipv6": "The error page showed my IP {}."}
GENERIC_PII = list(PHRASES)
RATES = {"malformed": 0.005, "exact_duplicate": 0.03, "anchor_copy": 0.005, "near_duplicate": 0.03,
         "pii_echo": 0.01, "pii_generic": 0.01, "mislabeled": 0.02}
# Which gate each kind of plant is for.
GATE_OF = {"malformed": "format", "exact_duplicate": "exact_dedup", "anchor_copy": "exact_dedup",
           "near_duplicate": "near_dup", "pii_echo": "pii", "pii_generic": "pii", "mislabeled": "label_consistency"}
MAX_CHARS = 20_000  # the format gate's default max_chars
NEAR_MIN_JACCARD = 0.85


@dataclass
class PlantedPool:
    pool: Rows
    anchor: Rows
    truth: dict  # kind -> set of pool indices the gates should reject
    allowed_labels: list

    def gate_truth(self, gate):
        return set().union(*(self.truth[kind] for kind, name in GATE_OF.items() if name == gate))


def shingle_jaccard(a, b, k=3):
    def shingles(text):
        words = text.lower().split()
        return {" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}

    a, b = shingles(a), shingles(b)
    return len(a & b) / len(a | b)


def luhn_complete(rng, length=16):
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(length - 2)]
    total = sum(d * 2 - 9 if i % 2 == 0 and d > 4 else d * 2 if i % 2 == 0 else d
                for i, d in enumerate(reversed(digits)))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def iban(rng, country="DE", length=22):
    bban = "".join(str(rng.randint(0, 9)) for _ in range(length - 4))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


class _Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.used_refs = set()

    def ref(self, prefix, digits, taken=()):
        """A fresh identifier, never one in ``taken`` nor handed out before."""
        while True:
            value = f"{prefix}-{self.rng.randrange(10 ** (digits - 1), 10**digits)}"
            if value not in taken and value not in self.used_refs:
                self.used_refs.add(value)
                return value

    def ticket(self, intent, order):
        """One ticket: the slot values (one product, city… per ticket) filled into
        an opener, 4–6 of the intent's sentences and a closer."""
        rng = self.rng
        values = {name: rng.choice(options) for name, options in SLOTS.items()}
        values.update(amount=f"{rng.randint(5, 2500)}.{rng.randint(0, 99):02d} EUR", days=rng.randint(2, 60),
                      code=rng.randint(100, 999), order=order)
        sentences = rng.sample(INTENTS[intent], rng.randint(4, 6))
        parts = [rng.choice(OPENERS)] + sentences + [rng.choice(CLOSERS)]
        return " ".join(p.format(**values) for p in parts if p)

    def email(self):
        rng = self.rng
        return f"{rng.choice(SLOTS['name']).lower()}.{rng.randrange(10**5):05d}@{rng.choice(EMAIL_DOMAINS)}"

    def phone(self):
        return f"+44 20 7946 {self.rng.randrange(10**4):04d}"

    def near_copy(self, text):
        """One small edit leaving a shingle Jaccard of at least NEAR_MIN_JACCARD (None if none found)."""
        rng = self.rng
        for _ in range(20):
            words = text.split()
            i = rng.randrange(1, len(words) - 1)
            edit = rng.choice(("swap", "drop", "insert", "typo"))
            if edit == "swap":
                words[i] = rng.choice(["really", "now", "again", "still", "also", "just"])
            elif edit == "drop":
                del words[i]
            elif edit == "insert":
                words.insert(i, rng.choice(["please", "honestly", "today", "actually"]))
            else:
                w = words[i]
                words[i] = w[:-1] if len(w) > 3 else w + w[-1]
            candidate = " ".join(words)
            if candidate != text and shingle_jaccard(candidate, text) >= NEAR_MIN_JACCARD:
                return candidate
        return None


def generate(n, *, seed=7, anchor_size=None):
    """A pool of ``n`` examples with planted defects, its real anchor and the truth."""
    g = _Generator(seed)
    rng = g.rng
    labels = sorted(INTENTS)
    anchor_size = anchor_size or max(300, n // 20)
    # The real anchor: same generator, plus the identifiers real tickets carry.
    anchor_texts, anchor_labels, identifiers = [], [], []
    for _ in range(anchor_size):
        intent = rng.choice(labels)
        text = g.ticket(intent, g.ref("ORD", 7) if rng.random() < 0.5 else "my last order")
        kind = rng.random()
        identifier = (CUSTOMER_PHRASE, g.ref("CU", 6)) if kind < 0.3 else (
            (PHRASES["email"], g.email()) if kind < 0.36 else (PHRASES["phone"], g.phone()) if kind < 0.4 else None)
        if identifier:
            text += " " + identifier[0].format(identifier[1])
            identifiers.append(identifier)
        anchor_texts.append(text)
        anchor_labels.append(intent)
    anchor_refs = set(g.used_refs)

    counts = {kind: max(1, round(rate * n)) for kind, rate in RATES.items()}
    clean_count = n - sum(counts.values())
    texts, labels_out, kinds, groups = [], [], [], []  # groups: (kind, [positions]) of duplicate sets

    def clean(customer=True):
        # Fresh order and customer references look like the anchor's but are
        # nobody's: the identifier scan must not flag them.
        intent = rng.choice(labels)
        order = g.ref("ORD", 7, anchor_refs) if rng.random() < 0.5 else "my last order"
        text = g.ticket(intent, order)
        if customer and rng.random() < 0.3:
            text += " " + CUSTOMER_PHRASE.format(g.ref("CU", 6, anchor_refs))
        return text, intent

    def add(text, label, kind=None):
        texts.append(text)
        labels_out.append(label)
        kinds.append(kind)
        return len(texts) - 1

    for _ in range(clean_count):
        add(*clean())
    originals = rng.sample(range(clean_count), counts["exact_duplicate"] + counts["near_duplicate"])
    for position in originals[: counts["exact_duplicate"]]:
        text = texts[position]
        copy = rng.choice((text, text.upper(), "  " + text.replace(" ", "  ") + "\n", text.lower()))
        groups.append(("exact_duplicate", [position, add(copy, labels_out[position])]))
    for position in originals[counts["exact_duplicate"] :]:
        copy = g.near_copy(texts[position])
        while copy is None:  # very short ticket: plant on a fresh one instead
            position = add(*clean())
            copy = g.near_copy(texts[position])
        groups.append(("near_duplicate", [position, add(copy, labels_out[position])]))
    for i in rng.sample(range(anchor_size), counts["anchor_copy"]):
        add(anchor_texts[i], anchor_labels[i], "anchor_copy")
    for _ in range(counts["pii_echo"]):
        text, intent = clean(customer=False)
        phrase, value = rng.choice(identifiers)
        add(f"{text} {phrase.format(value)}", intent, "pii_echo")
    for i in range(counts["pii_generic"]):
        text, intent = clean(customer=False)
        kind = GENERIC_PII[i % len(GENERIC_PII)]
        value = {
            "email": g.email, "phone": g.phone, "card": lambda: _grouped(luhn_complete(rng)),
            "iban": lambda: iban(rng), "ssn": lambda: f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-"
                                                      f"{rng.randint(1000, 9999)}",
            "ipv4": lambda: f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "ipv6": lambda: "2001:db8:" + ":".join(f"{rng.randrange(1 << 16):x}" for _ in range(6)),
        }[kind]()
        add(f"{text} {PHRASES[kind].format(value)}", intent, "pii_generic")
    for _ in range(counts["mislabeled"]):
        text, intent = clean()
        add(text, rng.choice([label for label in labels if label != intent]), "mislabeled")
    for i in range(counts["malformed"]):
        text, intent = clean()
        text, label = [("", intent), ("   \n ", intent), ((text + " ") * (MAX_CHARS // len(text) + 1), intent),
                       (text, "not_an_intent")][i % 4]
        add(text, label, "malformed")
    # Shuffle, then ids follow positions (the gates keep the lowest id of a group).
    order = list(range(len(texts)))
    rng.shuffle(order)
    position_of = {old: new for new, old in enumerate(order)}
    truth = {kind: set() for kind in RATES}
    for old, kind in enumerate(kinds):
        if kind:
            truth[kind].add(position_of[old])
    for kind, members in groups:
        new = sorted(position_of[m] for m in members)
        truth[kind].update(new[1:])
    pool_texts = [texts[i] for i in order]
    pool = Rows(ids=list(range(1, len(order) + 1)), texts=pool_texts, labels=[labels_out[i] for i in order],
                hashes=[_hash(t) for t in pool_texts])
    anchor = Rows(ids=list(range(len(order) + 1, len(order) + 1 + anchor_size)), texts=anchor_texts,
                  labels=anchor_labels, hashes=[_hash(t) for t in anchor_texts])
    return PlantedPool(pool=pool, anchor=anchor, truth=truth, allowed_labels=labels)


def _grouped(number):
    return " ".join(number[j : j + 4] for j in range(0, len(number), 4))


def _hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def score(planted, outcomes):
    """Per gate: the plants it saw, how many it caught, and its false rejects
    (rejects outside its plants, as a share of the other rows it saw)."""
    seen = set(range(len(planted.pool)))
    figures = {}
    for outcome in outcomes:
        truth = planted.gate_truth(outcome.gate)
        rejected = {r.index for r in outcome.rejects}
        plants, others = truth & seen, seen - truth
        caught, false = len(rejected & truth), len(rejected - truth)
        figures[outcome.gate] = {
            "plants": len(plants), "caught": caught, "catch_rate": caught / len(plants) if plants else None,
            "false_rejects": false, "false_rate": false / len(others) if others else 0.0,
        }
        seen -= rejected
    return figures


# -- The PII detectors' labelled sample ------------------------------------------------

SAMPLE_PER_KIND = 60
SAMPLE_TEMPLATES = ("Hello, {} is what I have on file.", "Please check {} again.", "Ref: {}", "{} — thanks")


def _sample_values(rng):
    """(detector or None, value) makers: personal data of each detector, then look-alikes
    found in support tickets (order and invoice numbers, ISBNs, SKUs, dates, versions…),
    some of which the detectors do match (a random 16-digit invoice number passes Luhn one
    time in ten, a dotted build number is a valid IPv4 address)."""
    digits = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    g = _Generator(rng.random())
    return [
        ("email", g.email),
        ("email", lambda: g.email().upper()),
        ("phone", g.phone),
        ("phone", lambda: f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{digits(4)}"),
        ("phone", lambda: f"+49 30 {digits(7)}"),
        ("card", lambda: _grouped(luhn_complete(rng))),
        ("card", lambda: "-".join(_grouped(luhn_complete(rng)).split())),
        ("iban", lambda: iban(rng)),
        ("iban", lambda: " ".join(_grouped(iban(rng, "GB")).split())),
        ("national_id", lambda: f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"),
        ("national_id", lambda: f"JK {digits(2)} {digits(2)} {digits(2)} C"),
        ("ipv4", lambda: f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"),
        ("ipv6", lambda: "2001:db8:" + ":".join(f"{rng.randrange(1 << 16):x}" for _ in range(6))),
        (None, lambda: f"ORD-{digits(7)}"),
        (None, lambda: f"invoice {digits(16)}"),
        (None, lambda: f"ISBN 978-{digits(1)}-{digits(2)}-{digits(6)}-{digits(1)}"),
        (None, lambda: f"SKU {digits(3)}-{digits(3)}-{digits(4)}"),
        (None, lambda: f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"),
        (None, lambda: f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2019, 2026)}"),
        (None, lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"),
        (None, lambda: f"{rng.randint(5, 9999)},{digits(3)}.{digits(2)} EUR"),
        (None, lambda: f"build {rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}"),
        (None, lambda: ":".join(f"{rng.randrange(256):02x}" for _ in range(6))),
        (None, lambda: f"someone.{digits(3)}@example.com"),
        (None, lambda: f"DE{digits(20)}"),
        (None, lambda: f"000-{digits(2)}-{digits(4)}"),
        (None, lambda: f"ticket {digits(10)}"),
    ]


def pii_sample(seed=5, per_kind=SAMPLE_PER_KIND):
    """A labelled sample for the PII detectors: [(text, [(start, end, detector)])],
    ``per_kind`` texts of each maker of ``_sample_values`` (13 kinds of personal data,
    14 kinds of look-alikes), deterministic for a seed."""
    rng = random.Random(seed)
    sample = []
    for detector, make in _sample_values(rng):
        for _ in range(per_kind):
            value = make()
            before, after = rng.choice(SAMPLE_TEMPLATES).split("{}")
            spans = [(len(before), len(before) + len(value), detector)] if detector else []
            sample.append((before + value + after, spans))
    return sample
