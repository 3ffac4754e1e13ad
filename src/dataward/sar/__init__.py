"""Subject access requests: record a request and its legal due date, find the person's
data across the latest scan (the fingerprint search of ``pipelines.subject``), and export
it as an encrypted transfer package (``transfer``) with an index of the other people's
data each file also holds, masked, so the DPO knows what to redact before disclosure."""
