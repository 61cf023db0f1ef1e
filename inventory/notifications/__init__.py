"""E-mail notifications: one row per alert, delivered at most once per key by a batch sender.

Lives under `inventory` because both apps raise alerts and dependencies point
courses -> inventory; it imports neither app's domain models.
"""
