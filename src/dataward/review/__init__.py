"""The DPO's review of the exposure report: decisions that last across scans.

``decisions`` records a decision (accepted with a reason and an expiry date, to-fix with an
owner, false-positive for one finding) in the ledger and the audit log, in one
transaction, with the operating-system user and the name typed. How decisions read
against a later scan (open, accepted, fixed, expired) is ``pipelines.report_review``,
which the report uses too."""
