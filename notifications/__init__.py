"""E-mail notifications: one row per alert, delivered at most once per key by a batch sender.

A top-level app: courses and inventory both enqueue into it. Of their models it reads only
inventory's ward (a ward's mailbox and its digest opt-out), never a course, dose or stock row.
"""
