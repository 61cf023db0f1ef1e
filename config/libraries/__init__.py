"""The libraries' admin screens in our language: django-axes, django-rest-knox, django-pghistory
and Django's own.

None of the three ships Ukrainian, and Django's Ukrainian catalogue lacks a few of its newer admin
strings. How each gap is closed, and why there:

- `apps.py`: our AppConfigs for axes, knox and pghistory (the way Django documents to rename a
  third-party app), the model and field names knox and pghistory do not mark for translation
  (no catalogue can reach an unmarked string), and axes' records named without its English.
- `messages.py`: the library strings that *are* marked for translation but not translated into
  Ukrainian, listed so that `makemessages` keeps them in our catalogue (LOCALE_PATHS, which wins
  over the apps' own catalogues). The library stays the one home of its wording: no copy of its
  admin to keep in step with upgrades, and the tests say when a msgid it changes loses its
  translation.
- `admin.py`: what neither can reach, the words the libraries' admins build in code (axes'
  "N Attempt Remaining" and its clean-up message, knox's "TOKEN …" message), titles that need
  the accusative, and permission names (config.admin).
"""
