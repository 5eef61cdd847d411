"""The workflow.patched ids of DenialCaseWorkflow: each guards a change of behaviour so that
runs begun before it replay as they ran. What each guards, since when, and when it can go:
docs/patches.md."""

# Since this patch a submitted appeal or corrected claim is sent through the clearinghouse
# adapter (packet PDF or 837) and the receipt kept; older histories never sent anything.
SUBMISSION_ADAPTER = "submission-adapter"
# Since this patch a partial payment opens a review of the remainder (write it off, or appeal
# or correct it) instead of closing the case. Decided once, when the case starts, and kept in
# its state (continue-as-new included), so an older case keeps closing on a partial payment.
PARTIAL_PAYMENT_REVIEW = "partial-payment-review"
# Since this patch a corrected claim denied again after its current appeal level was decided
# goes to write-off review: before, that decided appeal was opened again.
NO_REAPPEAL_OF_DECIDED_LEVEL = "no-reappeal-of-decided-level"
# Since this patch a run keeps its history bounded and its work unstuck: it continues as new
# whenever its history is full (the server's suggestion or the limits below), letting the
# Updates in flight finish first; its activities are bounded (workflows.case_activities); a
# submission counts once the clearinghouse adapter confirms it, and a failure raises a task to
# supervisors; escalation belongs to the deadline (domain.escalation). Decided per run: a case
# started earlier takes it when it next continues as new.
BOUNDED_RUN = "bounded-run"
# Since this patch a 'paid' answer that pays nothing new is no recovery: it is taken as the
# payer's answer without money (upheld, when the case awaited one). Before, it closed the case
# recovered with $0.
NO_ZERO_RECOVERY = "no-zero-recovery"
