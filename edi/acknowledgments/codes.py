"""What the codes of a 277CA (005010X214) and a 999 (005010X231A1) mean, as their readers
word their findings."""

# --- 277CA ---

# STC01-1 / STC10-1 / STC11-1 claim status category codes of the acknowledgment (A) family.
REJECTION_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})

# STC01-3 entity identifier codes commonly found in a 277CA.
ENTITY_NAMES: dict[str, str] = {
    "03": "dependent",
    "1P": "provider",
    "2B": "third-party administrator",
    "36": "employer",
    "40": "receiver",
    "41": "submitter",
    "71": "attending physician",
    "72": "operating physician",
    "73": "other physician",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "DK": "ordering physician",
    "DN": "referring provider",
    "DQ": "supervising physician",
    "FA": "facility",
    "GB": "other insured",
    "HK": "subscriber",
    "IL": "insured or subscriber",
    "PR": "payer",
    "QC": "patient",
    "TU": "third-party repricing organization",
}

# --- 999 ---

SEGMENT_ERRORS: dict[str, str] = {  # IK304
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}

ELEMENT_ERRORS: dict[str, str] = {  # IK403
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
    "I10": "implementation 'not used' data element present",
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": "implementation dependent 'not used' data element present",
}

SET_ACK_CODES: dict[str, str] = {  # IK501
    "A": "accepted",
    "E": "accepted with errors",
    "M": "rejected: message authentication code failed",
    "R": "rejected",
    "W": "rejected: assurance failed validity tests",
    "X": "rejected: content after decryption could not be analysed",
}

GROUP_ACK_CODES: dict[str, str] = {  # AK901: the IK501 codes plus P
    **SET_ACK_CODES,
    "P": "partially accepted: at least one transaction set was rejected",
}

REJECTED_ACK_CODES = frozenset({"M", "R", "W", "X"})

SET_ERRORS: dict[str, str] = {  # IK502-IK506
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "18": "transaction set not in functional group",
    "19": "invalid transaction set implementation convention reference",
    "23": "transaction set control number not unique within the functional group",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}

GROUP_ERRORS: dict[str, str] = {  # AK905-AK909
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the functional group header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "19": "functional group control number not unique within interchange",
}
