"""Fixes dataward can make safely: move exposed files into a restricted folder, rename
images whose names name pupils. Plan, named approval, apply (resumable), undo; every
step in the audit log; never outside the configured roots, never through a symlink."""
