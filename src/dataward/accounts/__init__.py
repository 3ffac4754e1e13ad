"""Leavers' accounts: the MIS leavers against the directories, and disabling what should
have been disabled (plan -> approve -> apply -> undo, every step in the audit log)."""
