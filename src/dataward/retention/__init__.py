"""Retention: delete images of pupils who have left, safely.

plan -> a named person approves -> apply (quarantine) -> purge after the grace period.

* ``mis``: the MIS leavers, on-roll and consent CSV readers (line-numbered problems).
* ``names``: name tokens and UPN checks shared by the readers and the matcher.
* ``inventory``: the image walk (no symlinks) and EXIF/XMP/IPTC people tags.
* ``schedule``: the retention schedule (rules) loaded from YAML.
* ``planner``: the pure planner, ``plan(inventory, leavers, rules, as_of)``.
* ``planning``: make, store and approve a plan (I/O around the planner).
* ``quarantine``: apply (move into quarantine) and restore; ``purge``: destroy and record.
* ``journal``, ``recovery``, ``lock``, ``safefs``: crash safety, one run at a time, and
  file operations that never leave a root or follow a symlink.
* ``store``: the ledger tables.
"""
