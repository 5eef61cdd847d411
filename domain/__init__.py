"""Pure denial-management rules: classification, payer deadlines, priority, case lifecycle.

No I/O except reading the rule data shipped in `domain/data`.
"""
