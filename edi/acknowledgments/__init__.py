"""277CA claim acknowledgment (005010X214) and 999 implementation acknowledgment (005010X231A1).

Both report claims that never entered adjudication: a 277CA one claim at a time (STC category
A3, A4, A6, A7 or A8), a 999 a whole 837 transaction set (IK5 R, M, W or X) or a whole functional
group (AK9 R with no AK2 loop). Each rejection becomes an acknowledged claim that is not accepted
and a case record of kind REJECTION; accepted claims are counted, and open nothing.

A rejected claim is not filed: the payer's timely-filing clock keeps running. A 999 does not
carry the claim's service date or amount, so its records use the acknowledgment's date (the
clock is counted from it until the 837 is linked) and an amount of 0.

A value the implementation guide disallows (a code, a position, a reference number, an NPI) is
a warning: refusing the file would keep its rejections from their cases. Errors are kept for
what leaves a claim unreadable: its loop structure, its id, whether it was accepted, a date to
count timely filing from.
"""

from edi.acknowledgments.claims_277ca import ClaimAcknowledgmentParser
from edi.acknowledgments.sets_999 import FunctionalAcknowledgmentParser

__all__ = ["ClaimAcknowledgmentParser", "FunctionalAcknowledgmentParser"]
