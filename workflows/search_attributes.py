"""Search attributes of a case workflow. None of them carries PHI: codes, ids and numbers only."""

from temporalio.common import SearchAttributeKey

CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")
DENIAL_CATEGORY = SearchAttributeKey.for_keyword("DenialCategory")
PAYER_ID = SearchAttributeKey.for_keyword("PayerId")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
CASE_PRIORITY = SearchAttributeKey.for_float("CasePriority")

ALL = (CASE_STATUS, DENIAL_CATEGORY, PAYER_ID, NEXT_DEADLINE, ASSIGNEE, CASE_PRIORITY)
