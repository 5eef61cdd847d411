"""When an appeal letter is finished, and the letter as the payer receives it.

The generated draft is a skeleton: bracketed prompts ("[cite the policy]") for the biller to
replace, an argument to write, enclosures to attach. `unfinished_parts` is the one rule that
says what is still missing, in the biller's words; the appeal task, the API, the workflow's
validator and the submission activity all ask it, so nothing unfinished reaches the payer
whichever way it is sent.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from domain.appeals.attestation import PENDING_ATTESTATION

ARGUMENT_HEADING = "WHY THE CLAIM SHOULD BE PAID"
# Sections a letter cannot go without, and what each holds in the biller's words.
REQUIRED_SECTIONS = {
    "DENIAL REASON": "the denial reason",
    ARGUMENT_HEADING: "the argument (why the claim should be paid)",
}
MAX_LETTER_CHARS = 50_000
MAX_ENCLOSURES = 40
_HEADING = re.compile(r"^[A-Z][A-Z0-9 ,'()/&-]{3,}$")
_BRACKETS = re.compile(r"\[([^\[\]\n]*)\]")
_PROMPT_SHOWN = 60


class AttachedFile(BaseModel):
    """A case document attached to an enclosure (its bytes stay in the document store)."""

    model_config = ConfigDict(frozen=True)

    document_id: str = Field(min_length=1, max_length=64)
    filename: str = Field(min_length=1, max_length=120)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class EnclosureItem(BaseModel):
    """One thing the packet encloses. `included` is the biller's tick; an included enclosure
    needs a file, unless the case provides it otherwise (`provided`, e.g. an attestation the
    physician signed in the case manager, which the letter states)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=400, description="Guidance for the biller")
    included: bool = True
    files: list[AttachedFile] = Field(default_factory=list, max_length=20)
    provided: str = Field(default="", max_length=400)


class LetterToSend(BaseModel):
    """The letter body as written (the enclosure list is added after the signature) and the
    enclosures that go with it."""

    model_config = ConfigDict(frozen=True)

    body: str = Field(min_length=1, max_length=MAX_LETTER_CHARS)
    enclosures: list[EnclosureItem] = Field(default_factory=list, max_length=MAX_ENCLOSURES)
    version: int = Field(default=0, ge=0, description="The saved version; 0: the draft")
    written_by: str = Field(default="", max_length=80)


class LetterParts(BaseModel):
    """A letter cut around its argument: what comes before the argument's heading, the
    argument, and what follows from the next heading on."""

    model_config = ConfigDict(frozen=True)

    opening: str
    argument: str
    closing: str
    has_argument_section: bool


def normalise(text: str) -> str:
    """Line endings as a browser's textarea may send them, folded to one newline."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_heading(line: str) -> bool:
    return bool(_HEADING.match(line.strip())) and line == line.strip()


def split_letter(body: str) -> LetterParts:
    lines = normalise(body).split("\n")
    try:
        start = lines.index(ARGUMENT_HEADING)
    except ValueError:
        return LetterParts(
            opening=normalise(body), argument="", closing="", has_argument_section=False
        )
    end = next(
        (i for i in range(start + 1, len(lines)) if _is_heading(lines[i])),
        len(lines),
    )
    return LetterParts(
        opening="\n".join(lines[:start]).rstrip("\n"),
        argument="\n".join(lines[start + 1 : end]).strip("\n"),
        closing="\n".join(lines[end:]).strip("\n"),
        has_argument_section=True,
    )


def join_letter(opening: str, argument: str, closing: str) -> str:
    """The letter from its parts, the argument under its heading."""
    parts = [normalise(opening).rstrip(), f"{ARGUMENT_HEADING}\n{normalise(argument).strip()}"]
    if closing.strip():
        parts.append(normalise(closing).strip("\n"))
    return "\n\n".join(part for part in parts if part) + "\n"


def merge_argument(body: str, argument: str) -> str:
    """The letter with `argument` as its argument section (added before the closing part
    when the letter had none)."""
    parts = split_letter(body)
    return join_letter(parts.opening, argument, parts.closing)


def _sections(body: str) -> dict[str, str]:
    """Each heading's text, up to the next heading."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in normalise(body).split("\n"):
        if _is_heading(line):
            current = sections.setdefault(line, [])
        elif current is not None:
            current.append(line)
    return {heading: "\n".join(lines).strip() for heading, lines in sections.items()}


def _where(body: str, position: int) -> str:
    heading = ""
    for line_start, line in _line_starts(body):
        if line_start > position:
            break
        if _is_heading(line):
            heading = line
    if heading == ARGUMENT_HEADING:
        return "in the argument"
    return f"under {heading.capitalize()}" if heading else "at the top of the letter"


def _line_starts(body: str) -> list[tuple[int, str]]:
    starts, offset = [], 0
    for line in body.split("\n"):
        starts.append((offset, line))
        offset += len(line) + 1
    return starts


def _bracket_spans(body: str) -> list[tuple[int, int]]:
    """Where each [bracketed] part is, inner ones first found, then the ones around them
    ("[If none applied: notified on [date]]" is two prompts), in the order of the text."""
    spans, scan = [], body
    while matches := list(_BRACKETS.finditer(scan)):
        for match in matches:
            spans.append(match.span())
            scan = scan[: match.start()] + "_" * (match.end() - match.start()) + scan[match.end() :]
    return sorted(spans)


def _shown(prompt: str) -> str:
    prompt = " ".join(prompt.split())
    return prompt if len(prompt) <= _PROMPT_SHOWN else prompt[: _PROMPT_SHOWN - 1] + "…"


def unfinished_parts(letter: LetterToSend) -> list[str]:
    """What must still be done before the letter can go to the payer, each in the biller's
    words; empty when it is finished. Looks at every part, so the biller sees them all at
    once: bracketed prompts and empty boxes left in the text, required sections missing or
    empty, the pending attestation line, and enclosures ticked without a file."""
    body = normalise(letter.body)
    missing: list[str] = []
    for start, end in _bracket_spans(body):
        inner, where = body[start + 1 : end - 1].strip(), _where(body, start)
        if inner.lower() == "x":
            continue
        if not inner:
            line = body[start:].split("\n", 1)[0].strip()
            missing.append(
                f'Remove the empty box "{_shown(line)}" ({where}): enclosures are listed from '
                "the files attached to the appeal"
            )
        else:
            missing.append(f'Fill in or remove "[{_shown(inner)}]" ({where})')
    sections = _sections(body)
    for heading, what in REQUIRED_SECTIONS.items():
        if heading not in sections:
            missing.append(f'Add {what}: the letter has no "{heading.capitalize()}" section')
        elif not sections[heading]:
            missing.append(f'Write {what}: the "{heading.capitalize()}" section is empty')
    if PENDING_ATTESTATION in body:
        missing.append(
            "The physician's attestation is still pending: a physician attests on the case, "
            "or upload the signed attestation"
        )
    for enclosure in letter.enclosures:
        if enclosure.included and not enclosure.files and not enclosure.provided:
            missing.append(f'Attach "{enclosure.name}", or untick it if it is not enclosed')
    return missing


def letter_as_sent(letter: LetterToSend) -> str:
    """The body followed, after the signature, by the list of what is enclosed."""
    body = normalise(letter.body).rstrip() + "\n"
    enclosed = [e.name for e in letter.enclosures if e.included]
    if not enclosed:
        return body
    listed = "\n".join(f"- {name}" for name in enclosed)
    return f"{body}\nEnclosures ({len(enclosed)}):\n{listed}\n"


def appeal_letter_problem(letter: LetterToSend | None) -> str | None:
    """Why an appeal submitted with `letter` cannot be sent, or None: what the workflow's
    validator refuses, whichever client sent the submission."""
    if letter is None:
        return (
            "the appeal letter is missing: submit the appeal from its task, which sends the "
            "letter with the argument in it"
        )
    missing = unfinished_parts(letter)
    if missing:
        return f"the appeal is not ready to send: {'; '.join(missing)}"
    return None
