"""Labelled mail for the learning tests: an e-bike shop with its own trade words (displays,
motors, saddles, instalments, its model names), mixed with the evaluation set's messages.

The shipped rules place about six in ten of the shop's own mails (measured 2026-11-30, after
the rules were broadened) and send most of the rest to `general`; agents correct that by
moving it. The learning test therefore streams three shop mails for each evaluation one.
Each situation has several wordings and slots, so "similar new messages" share vocabulary with
the corrected ones without repeating them.
"""

from __future__ import annotations

import random

from responder.devstack.routing_corpus import LabelledMail, load

BIKES = ("e-bike", "Volta 500", "city bike", "cargo bike", "Stroom 3")
PARTS = ("saddle", "rear rack", "child seat", "pannier", "helmet", "bike lock")
PARTS_ES = ("sillín", "portabultos", "asiento infantil", "alforja", "casco", "candado")
PARTS_DE = ("Sattel", "Gepäckträger", "Kindersitz", "Packtasche", "Helm", "Fahrradschloss")
SUBJECTS = {
    "en": ("Hello", "Question", "Help please", "{bike}", "Problem", "Quick one"),
    "es": ("Hola", "Consulta", "Ayuda por favor", "{bike}", "Problema"),
    "de": ("Hallo", "Frage", "Bitte um Hilfe", "{bike}", "Problem"),
}
SITUATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "technical": {
        "en": (
            "The display on my {bike} stays dark when I switch it on.",
            "My {bike}'s motor makes a grinding noise when I pedal.",
            "The battery of my {bike} only lasts {n} km now, it used to do 60.",
            "The pedal assist on the {bike} cuts out on every hill.",
            "The headlight of my {bike} flickers and then goes dark.",
        ),
        "es": (
            "La pantalla de mi {bike} se queda negra al encenderla.",
            "El motor de mi {bike} hace un ruido raro al pedalear.",
            "La batería de mi {bike} solo dura {n} km, antes hacía 60.",
            "La asistencia al pedaleo de la {bike} se corta en las cuestas.",
        ),
        "de": (
            "Das Display meines {bike} bleibt beim Einschalten dunkel.",
            "Der Motor meines {bike} macht beim Treten ein Schleifgeräusch.",
            "Der Akku meines {bike} hält nur noch {n} km, früher waren es 60.",
            "Die Tretunterstützung am {bike} setzt an jedem Hügel aus.",
        ),
    },
    "orders": {
        "en": (
            "The {part} I bought on the {n}th hasn't turned up yet.",
            "I'm still waiting for the {part} I bought {n} days ago, can you chase it?",
            "Could you hold the {part} I bought until I'm back from holiday?",
            "The {part} that came is the wrong model, I bought the {bike} one.",
        ),
        "es": (
            "El {part} que compré el día {n} todavía no ha aparecido.",
            "Sigo esperando el {part} que compré hace {n} días, ¿lo podéis reclamar?",
            "El {part} que vino es de otro modelo, yo compré el de la {bike}.",
        ),
        "de": (
            "Der {part}, den ich am {n}. gekauft habe, ist immer noch nicht da.",
            "Ich warte seit {n} Tagen auf den {part}, können Sie nachhaken?",
            "Der {part}, der kam, ist das falsche Modell, ich hatte den für das {bike} gekauft.",
        ),
    },
    "billing": {
        "en": (
            "I paid for the {bike} in {n} instalments but Klarna shows {m} instalments.",
            "My employer needs a receipt for the {bike} lease, can you send one?",
            "Why was I asked for a surcharge of {n} euros on the {part}?",
            "The lease instalment for my {bike} went out twice this month.",
        ),
        "es": (
            "Pagué la {bike} en {n} plazos pero Klarna me muestra {m} plazos.",
            "Mi empresa necesita un justificante del renting de la {bike}.",
            "¿Por qué me pedisteis un recargo de {n} euros por el {part}?",
        ),
        "de": (
            "Ich habe das {bike} in {n} Raten gezahlt, Klarna zeigt aber {m} Raten.",
            "Mein Arbeitgeber braucht einen Beleg für das {bike}-Leasing.",
            "Warum wurde ein Aufschlag von {n} Euro auf den {part} verlangt?",
        ),
    },
    "account": {
        "en": (
            "Please change the surname on my membership from {a} to {b}.",
            "I got a welcome mail for a membership I never opened, please take my address off it.",
            "Please remove my mobile number from the membership, no more text messages.",
        ),
        "es": (
            "Cambiad el apellido de mi membresía de {a} a {b}, por favor.",
            "Me llegó una bienvenida de una membresía que nunca abrí, quitad mi dirección.",
            "Quitad mi número de móvil de la membresía, no quiero más mensajes.",
        ),
        "de": (
            "Bitte ändern Sie den Nachnamen meiner Mitgliedschaft von {a} auf {b}.",
            "Ich bekam eine Willkommensmail für eine Mitgliedschaft, die ich nie eröffnet habe.",
            "Bitte entfernen Sie meine Handynummer aus der Mitgliedschaft, keine SMS mehr.",
        ),
    },
}
NAMES = ("Smith", "Okafor", "García", "Müller", "Jansen", "Silva", "Dubois")


def shop_mail(rng: random.Random) -> LabelledMail:
    queue = rng.choice(sorted(SITUATIONS))
    language = rng.choice(sorted(SITUATIONS[queue]))
    parts = {"en": PARTS, "es": PARTS_ES, "de": PARTS_DE}[language]
    slots = {
        "bike": rng.choice(BIKES),
        "part": rng.choice(parts),
        "n": rng.randint(2, 28),
        "m": rng.randint(2, 6),
        "a": rng.choice(NAMES),
        "b": rng.choice(NAMES),
    }
    body = rng.choice(SITUATIONS[queue][language]).format(**slots)
    subject = rng.choice(SUBJECTS[language]).format(**slots)
    return LabelledMail(queue, language, subject, body + "\n\n" + rng.choice(NAMES))


def mixed_stream(seed: int, count: int, shop_share: float = 0.5) -> list[LabelledMail]:
    """`count` messages: the shop's own (rules mostly miss) and evaluation-set ones (rules know)."""
    rng = random.Random(seed)
    known = load("eval") + load("holdout")
    rng.shuffle(known)
    stream = []
    for _ in range(count):
        stream.append(shop_mail(rng) if rng.random() < shop_share else known.pop())
    return stream
