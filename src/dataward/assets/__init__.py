"""The asset register and the disposal of ICT equipment.

* ``register`` / ``csv_import``: the school's inventory (import never half-imports).
* ``nwipe`` / ``evidence``: erasure evidence, parsed and kept with its SHA-256.
* ``guards``: the policy a disposal must pass (pure function).
* ``disposal``: records a disposal in one transaction, chained into the audit log.
* ``certificate`` / ``pdf`` / ``signing`` / ``verify``: the signed certificate and its check.
* ``export``: the disposal register for audit (CSV or Parquet).
"""
